from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.unit.video.factories import texture, with_box
from vision.video.background import BackgroundModel, BackgroundParams
from vision.video.blobs import mask_to_detections
from vision.video.egomotion import EgoMotionEstimator
from vision.video.geometry import box_iou


def grey(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


def fg_iou(mask: np.ndarray, box: tuple[int, int, int, int]) -> float:
    truth = np.zeros(mask.shape, bool)
    x1, y1, x2, y2 = box
    truth[y1:y2, x1:x2] = True
    got = mask > 0
    return float((got & truth).sum()) / float((got | truth).sum() or 1)


def learn(model: BackgroundModel, bg: np.ndarray, n: int = 30) -> None:
    rng = np.random.default_rng(0)
    for _ in range(n):
        noisy = np.clip(bg.astype(np.int16) + rng.integers(-3, 4, bg.shape), 0, 255)
        model.apply(grey(noisy.astype(np.uint8)))


def test_moving_object_is_foreground() -> None:
    bg = texture(seed=3)
    m = BackgroundModel()
    learn(m, bg)
    res = m.apply(grey(with_box(bg, (40, 30, 70, 90))))
    assert fg_iou(res.mask, (40, 30, 70, 90)) > 0.7
    assert not res.relearned


def test_global_exposure_jump_is_divided_out() -> None:
    bg = texture(seed=4)
    m = BackgroundModel()
    learn(m, bg)
    brighter = np.clip(bg.astype(np.float32) * 1.35, 0, 255).astype(np.uint8)
    res = m.apply(grey(with_box(brighter, (40, 30, 70, 90))))
    assert res.gain == pytest.approx(1.35, rel=0.05)
    assert fg_iou(res.mask, (40, 30, 70, 90)) > 0.6
    # without compensation the same frame floods the mask
    plain = BackgroundModel(BackgroundParams(compensate_gain=False, relearn_fraction=1.0))
    learn(plain, bg)
    assert plain.apply(grey(with_box(brighter, (40, 30, 70, 90)))).fraction > 0.3


def test_change_the_gain_cannot_explain_triggers_relearning() -> None:
    m = BackgroundModel()
    learn(m, texture(seed=5))
    res = m.apply(grey(texture(seed=6)))  # a different scene altogether
    assert res.relearned and not res.mask.any()


def test_frozen_pixels_keep_a_still_object_in_the_foreground() -> None:
    bg = texture(seed=7)
    box = (40, 30, 70, 90)
    frame = grey(with_box(bg, box))
    freeze = np.zeros(frame.shape, bool)
    freeze[30:90, 40:70] = True
    free, frozen = (BackgroundModel(BackgroundParams(rate=0.2, fg_rate_factor=1.0))
                    for _ in range(2))
    learn(free, bg)
    learn(frozen, bg)
    for _ in range(40):
        a = free.apply(frame)
        b = frozen.apply(frame, freeze=freeze)
    assert fg_iou(a.mask, box) < 0.2  # absorbed
    assert fg_iou(b.mask, box) > 0.7  # still there


def test_ego_motion_compensation_removes_scene_motion() -> None:
    world = texture(240, 320, seed=8)
    ego = EgoMotionEstimator()
    comp, raw = BackgroundModel(), BackgroundModel()
    last_c = last_r = None
    for i in range(25):
        x0, y0 = 40 + 3 * i, 30 + i  # camera pans right and down
        view = world[y0:y0 + 120, x0:x0 + 160].copy()
        box = (60 + i, 40, 80 + i, 80)  # an object moving on its own
        if i > 15:
            view = with_box(view, box)
        g = grey(view)
        est = ego.update(g)
        last_c = comp.apply(g, est.matrix)
        last_r = raw.apply(g)
        if i > 1:
            assert est.ok
            assert est.matrix[0, 2] == pytest.approx(-3.0, abs=0.5)
            assert est.matrix[1, 2] == pytest.approx(-1.0, abs=0.5)
    assert last_c is not None and last_r is not None
    assert fg_iou(last_c.mask, box) > 0.5
    # residue of sub-pixel misregistration is thin edges, which blob cleaning removes
    dets = mask_to_detections(last_c.mask)
    assert len(dets) == 1 and box_iou(tuple(dets.boxes[0].tolist()), box) > 0.6
    assert last_r.fraction > 3 * last_c.fraction
    raw_dets = mask_to_detections(last_r.mask)  # the object drowns in scene motion
    assert not any(box_iou(tuple(b), box) > 0.6 for b in raw_dets.boxes.tolist())


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="grey uint8"):
        BackgroundModel().apply(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="rate"):
        BackgroundParams(rate=1.5)
    with pytest.raises(ValueError, match="max_sigma"):
        BackgroundParams(min_sigma=10, init_sigma=5)
