from __future__ import annotations

import numpy as np
import pytest

from vision.video.kalman import BoxKalman
from vision.video.tracker import ByteTracker, TrackerParams, similarity
from vision.video.types import Detections

Box = tuple[float, float, float, float]


def dets(boxes: list[Box], scores: list[float] | None = None,
         labels: list[str] | None = None) -> Detections:
    scores = scores or [0.9] * len(boxes)
    return Detections.from_lists(boxes, scores, labels or ["object"] * len(boxes))


def moving(x0: float, y0: float, vx: float, vy: float, i: int) -> Box:
    return (x0 + vx * i, y0 + vy * i, x0 + vx * i + 20, y0 + vy * i + 40)


def test_kalman_learns_constant_velocity() -> None:
    kf = BoxKalman(np.array(moving(0, 0, 5, 0, 0), np.float64), frame_dt=0.1)
    for i in range(1, 15):
        kf.predict(0.1)
        kf.update(np.array(moving(0, 0, 5, 0, i), np.float64))
    assert kf.velocity()[0] == pytest.approx(50.0, rel=0.1)  # 5 px/frame at 10 fps
    kf.predict(0.2)  # two frames ahead (a dropped frame)
    assert kf.box()[0] == pytest.approx(5 * 16, abs=2.0)


def test_ids_are_stable_through_crossing_paths() -> None:
    tr = ByteTracker(TrackerParams(min_hits=2))
    seen: dict[int, list[float]] = {}
    for i in range(30):
        a = moving(0, 50, 6, 0, i)  # left -> right
        b = moving(180, 60, -6, 0, i)  # right -> left, passes a around i = 15
        for t in tr.update(dets([a, b]), i * 0.1):
            seen.setdefault(t.track_id, []).append((t.box[0] + t.box[2]) / 2)
    assert sorted(seen) == [1, 2]
    for xs in seen.values():  # each id keeps moving one way: no swap at the crossing
        steps = np.sign(np.diff(xs))
        assert abs(steps.sum()) == len(steps)


def test_track_survives_a_gap_and_low_score_detections() -> None:
    tr = ByteTracker(TrackerParams(min_hits=2, max_lost_s=1.0))
    ids = set()
    for i in range(25):
        box = moving(10, 10, 4, 2, i)
        if 8 <= i < 11:
            frame = dets([])  # fully occluded for 3 frames
        elif 14 <= i < 18:
            frame = dets([box], [0.3])  # half-subtracted: low score, ByteTrack's 2nd pass
        else:
            frame = dets([box])
        ids |= {t.track_id for t in tr.update(frame, i * 0.1)}
    assert ids == {1}


def test_noise_never_gets_an_id_and_lost_tracks_are_removed() -> None:
    tr = ByteTracker(TrackerParams(min_hits=3, max_lost_s=0.5))
    rng = np.random.default_rng(0)
    for i in range(10):  # one-frame flickers at random places
        x, y = rng.uniform(0, 300, 2)
        assert tr.update(dets([(x, y, x + 10, y + 10)]), i * 0.1) == []
    for i in range(10, 14):
        out = tr.update(dets([moving(0, 0, 3, 0, i)]), i * 0.1)
    assert [t.track_id for t in out] == [1]  # first confirmed track gets id 1
    for i in range(14, 22):
        tr.update(dets([]), i * 0.1)
    assert 1 in tr.removed_ids or tr.lost_tracks() == []


def test_fast_objects_at_low_frame_rate_are_associated() -> None:
    tr = ByteTracker(TrackerParams(min_hits=2, frame_dt=0.2))
    ids = set()
    for i in range(12):  # moves 25 px per frame with a 20 px wide box: no overlap
        ids |= {t.track_id for t in tr.update(dets([moving(0, 0, 25, 0, i)]), i * 0.2)}
    assert ids == {1}


def test_camera_motion_is_compensated() -> None:
    tr = ByteTracker(TrackerParams(min_hits=2, gate=0.3))
    ids = set()
    for i in range(12):
        # a still object while the camera pans 30 px per frame: the object jumps in the image
        box = (200.0 - 30 * i, 50.0, 220.0 - 30 * i, 90.0)
        warp = np.array([[1.0, 0.0, -30.0], [0.0, 1.0, 0.0]]) if i else None
        ids |= {t.track_id for t in tr.update(dets([box]), i * 0.1, warp)}
    assert ids == {1}


def test_person_votes_set_the_label() -> None:
    tr = ByteTracker(TrackerParams(min_hits=1))
    out = []
    for i in range(4):
        out = tr.update(dets([moving(0, 0, 2, 0, i)]), i * 0.1,
                        person_scores=np.array([0.9], np.float32))
    assert out[0].label == "person"


def test_similarity_and_validation() -> None:
    s = similarity(np.array([[0, 0, 10, 10.0]]), np.array([[0, 0, 10, 10.0], [100, 100, 110, 110],
                                                           [12, 0, 22, 10]]), gate=1.5)
    assert s[0, 0] == pytest.approx(1.0)
    assert s[0, 1] == 0.0
    assert 0.0 < s[0, 2] < 0.5  # no overlap, but close: proximity
    tr = ByteTracker()
    tr.update(dets([]), 1.0)
    with pytest.raises(ValueError, match="backwards"):
        tr.update(dets([]), 0.5)
    with pytest.raises(ValueError):
        TrackerParams(low=0.8, high=0.5)
    with pytest.raises(ValueError, match="x2 > x1"):
        dets([(10, 10, 5, 20)])
