from __future__ import annotations

import cv2
import pytest

from tests.unit.video.factories import texture, track, with_box
from vision.video.abandoned import AbandonedObjectDetector, AbandonedParams
from vision.video.types import EventType
from vision.video.zones import Zone

FPS = 10.0
BAG = (80, 85, 92, 97)
PARAMS = AbandonedParams(abandoned_s=3.0, short_tau_s=0.5, long_tau_s=300.0, min_area=40)


def scene(stay: bool) -> tuple[list, list]:
    """A person walks in carrying a bag, drops it at t = 4 s and walks off (or stays)."""
    bg = texture(seed=21)
    zone = Zone("apron", ((60.0, 60.0), (120.0, 60.0), (120.0, 119.0), (60.0, 119.0)))
    det = AbandonedObjectDetector(PARAMS, 1.0 / FPS, (zone,))
    opened, closed = [], []
    for i in range(150):
        t = i / FPS
        frame = bg.copy()
        px = 10 + 2 * i if i < 40 or not stay else 88
        person = (px - 10, 57, px + 10, 97)
        if i >= 20 and (stay or px < 170):
            frame = with_box(frame, person, 20)
        if 20 <= i < 40:
            frame = with_box(frame, (px + 10, 85, px + 22, 97), 235)  # carried
        if i >= 40:
            frame = with_box(frame, BAG, 235)  # dropped
        people = [track(1, tuple(map(float, person)))] if i >= 20 and (stay or px < 170) else []
        b = det.step(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), t, people)
        opened += b.opened
        closed += b.closed
    return opened, closed + det.finish().closed


def test_unattended_bag_raises_one_event() -> None:
    opened, closed = scene(stay=False)
    assert len(opened) == 1
    ev = opened[0]
    assert ev.type is EventType.ABANDONED_OBJECT and ev.zone == "apron"
    x1, y1, x2, y2 = ev.box
    assert abs(x1 - BAG[0]) <= 3 and abs(y1 - BAG[1]) <= 3 and abs(x2 - BAG[2]) <= 3
    assert ev.t_start == pytest.approx(4.0, abs=1.5)  # estimated drop time
    assert ev in closed  # closed at end of stream


def test_bag_next_to_its_owner_is_not_abandoned() -> None:
    opened, _ = scene(stay=True)
    assert opened == []


def test_params_validation() -> None:
    with pytest.raises(ValueError, match="short_tau_s"):
        AbandonedParams(short_tau_s=10, long_tau_s=5)
    with pytest.raises(ValueError):
        AbandonedObjectDetector(PARAMS, 0.0)
