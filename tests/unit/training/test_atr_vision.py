"""vision.atr: letterbox, decode, NMS, Detections, material hue, CT segmentation."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from vision.atr.boxes import box_iou, nms
from vision.atr.ct_segment import mip_top, segment
from vision.atr.decode import class_scores, decode
from vision.atr.letterbox import letterbox, to_chw
from vision.atr.material_hue import region_material
from vision.atr.types import Detections


@pytest.mark.parametrize("hw", [(100, 200), (300, 120), (64, 64), (1000, 37)])
def test_letterbox_maps_boxes_both_ways(hw: tuple[int, int]) -> None:
    img = np.zeros((*hw, 3), np.uint8)
    canvas, lb = letterbox(img, 128)
    assert canvas.shape == (128, 128, 3)
    box = np.array([[5.0, 6.0, hw[1] - 3.0, hw[0] - 2.0]], np.float32)
    back = lb.to_source(lb.to_model(box))
    np.testing.assert_allclose(back, box, atol=1e-3)
    # padding is white (air), the image sits top-left
    h, w = round(hw[0] * lb.scale), round(hw[1] * lb.scale)
    assert canvas[:h, :w].max() == 0
    if h < 128:
        assert canvas[h:].min() == 255
    assert to_chw(canvas).shape == (3, 128, 128)


@pytest.mark.parametrize("bad", [np.zeros((10, 10, 3), np.float32), np.zeros((10, 10, 4), np.uint8),
                                 np.zeros((0, 5, 3), np.uint8)])
def test_letterbox_rejects_bad_input(bad: npt.NDArray[Any]) -> None:
    with pytest.raises(ValueError):
        letterbox(bad, 64)


def test_decode_recovers_a_box() -> None:
    hm = np.zeros((3, 16, 16), np.float32)
    ltrb = np.zeros((4, 16, 16), np.float32)
    # object of class 2, centre cell (row 5, col 9): centre pixel (9.5*4, 5.5*4) = (38, 22)
    hm[2, 5, 9] = 0.9
    hm[2, 5, 10] = 0.5  # a shoulder, not a peak
    ltrb[:, 5, 9] = [10, 6, 8, 4]
    det = decode(hm, ltrb, stride=4, score_threshold=0.1)
    assert len(det) == 1
    np.testing.assert_allclose(det.boxes[0], [28, 16, 46, 26])
    assert det.class_ids[0] == 2 and det.scores[0] == pytest.approx(0.9)
    np.testing.assert_allclose(class_scores(hm), [0, 0, 0.9])


def test_decode_empty_and_shape_errors() -> None:
    assert len(decode(np.zeros((2, 8, 8), np.float32), np.zeros((4, 8, 8), np.float32), 4)) == 0
    with pytest.raises(ValueError):
        decode(np.zeros((2, 8, 8), np.float32), np.zeros((4, 4, 8), np.float32), 4)


def test_nms_suppresses_same_class_only() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [0, 0, 10, 10]], np.float32)
    keep = nms(boxes, np.array([0.9, 0.8, 0.7]), np.array([0, 0, 1]), 0.5)
    assert keep.tolist() == [0, 2]
    assert box_iou(boxes[:1], boxes[1:2])[0, 0] == pytest.approx(81 / 100)


def test_detections_validates() -> None:
    with pytest.raises(ValueError):
        Detections(np.array([[5, 5, 1, 1]], np.float32), np.array([0.5], np.float32),
                   np.array([0], np.int64))
    with pytest.raises(ValueError):
        Detections(np.zeros((1, 4), np.float32) + [0, 0, 1, 1], np.array([1.5], np.float32),
                   np.array([0], np.int64))


@pytest.mark.parametrize(("rgb", "want"), [((230, 150, 50), "organic"),
                                           ((90, 170, 70), "inorganic"),
                                           ((40, 70, 200), "metal"), ((255, 255, 255),
                                                                      "background")])
def test_region_material_reads_vendor_colours(rgb: tuple[int, int, int], want: str) -> None:
    img = np.full((40, 40, 3), 255, np.uint8)
    img[10:30, 10:30] = rgb
    assert region_material(img, (5, 5, 35, 35)) == want


def test_ct_segmentation_windows_and_components() -> None:
    vol = np.full((20, 12, 20), -1000.0, np.float32)
    zeff = np.zeros_like(vol)
    vol[2:5, 3:6, 4:8], zeff[2:5, 3:6, 4:8] = 3000.0, 26.0  # steel block
    vol[10:14, 4:7, 10:15], zeff[10:14, 4:7, 10:15] = 400.0, 7.4  # explosive-like block
    vol[17, 1, 1], zeff[17, 1, 1] = 3000.0, 26.0  # a single noisy voxel
    objs = segment(vol, zeff, min_voxels=4)
    got = {(o.window, o.box_voxels) for o in objs}
    assert got == {("metal", (2, 3, 4, 5, 6, 8)), ("dense_organic", (10, 4, 10, 14, 7, 15))}
    metal = next(o for o in objs if o.window == "metal")
    assert metal.voxels == 36 and metal.mip_box() == (4.0, 2.0, 8.0, 5.0)
    assert mip_top(vol).shape == (20, 20)
    assert segment(np.full((4, 4, 4), -1000.0, np.float32), None) == []
    with pytest.raises(ValueError):
        segment(np.zeros((4, 4), np.float32))
