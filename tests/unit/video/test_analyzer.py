from __future__ import annotations

import numpy as np
import pytest

from tests.unit.video.factories import texture, with_box
from vision.video.abandoned import AbandonedParams
from vision.video.analyzer import AnalyzerConfig, VideoAnalyzer
from vision.video.blobs import BlobParams
from vision.video.ground import Intrinsics, Pose
from vision.video.types import EventType
from vision.video.zones import Rules, Tripwire, Zone

FPS = 10.0
ZONE = Zone("apron", ((60.0, 20.0), (130.0, 20.0), (130.0, 119.0), (60.0, 119.0)),
            restricted=True)
WIRE = Tripwire("line", (50.0, 119.0), (50.0, 0.0), forward="east", backward="west", margin=2)


def cfg(**kw: object) -> AnalyzerConfig:
    base: dict[str, object] = dict(fps=FPS, detector="motion", blobs=BlobParams(min_area=60))
    base.update(kw)
    return AnalyzerConfig(**base)  # type: ignore[arg-type]


def walk_and_drop(dark: bool = False) -> list[np.ndarray]:
    """A person walks right carrying a bag, leaves it at x = 92 at frame 30, walks off."""
    bg = texture(seed=5)
    frames = []
    for i in range(120):
        f = bg.copy()
        x = 4 + 3 * i
        if i >= 5 and x < 175:
            f = with_box(f, (x, 50, x + 14, 95), 20)
        if 5 <= i < 30:
            f = with_box(f, (x + 14, 82, x + 24, 95), 235)
        if i >= 30:
            f = with_box(f, (92, 82, 102, 95), 235)
        if dark:
            f = (f.astype(np.float32) * 0.15).astype(np.uint8)
        frames.append(f)
    return frames


def run(an: VideoAnalyzer, frames: list[np.ndarray]) -> list:
    events = []
    for i, f in enumerate(frames):
        events += an.process(f, i / FPS).events.opened
    an.finish()
    return events


def test_walk_cross_and_abandon() -> None:
    an = VideoAnalyzer(cfg(abandoned=AbandonedParams(abandoned_s=3.0, short_tau_s=0.5,
                                                     min_area=40)),
                       Rules(zones=(ZONE,), tripwires=(WIRE,)))
    events = run(an, walk_and_drop())
    kinds = [(e.type, e.zone) for e in events]
    assert (EventType.TRIPWIRE, "line") in kinds
    assert (EventType.ZONE_INTRUSION, "apron") in kinds
    bag = [e for e in events if e.type is EventType.ABANDONED_OBJECT]
    assert len(bag) == 1 and bag[0].zone == "apron"
    x1, y1, x2, y2 = bag[0].box
    assert 88 <= x1 <= 95 and 98 <= x2 <= 106  # full-frame pixels
    wire = next(e for e in events if e.type is EventType.TRIPWIRE)
    assert wire.direction == "east"


def test_night_frames_are_enhanced_and_still_tracked() -> None:
    an = VideoAnalyzer(cfg(), Rules(tripwires=(WIRE,)))
    frames = walk_and_drop(dark=True)
    low = [an.process(f, i / FPS).low_light for i, f in enumerate(frames)]
    assert all(low)
    an2 = VideoAnalyzer(cfg(), Rules(tripwires=(WIRE,)))
    events = run(an2, frames)
    assert [e.direction for e in events if e.type is EventType.TRIPWIRE] == ["east"]


def test_frame_errors() -> None:
    an = VideoAnalyzer(cfg(), Rules())
    an.process(texture(), 0.0)
    with pytest.raises(ValueError, match="size changed"):
        an.process(texture(60, 80), 0.1)
    with pytest.raises(ValueError, match="BGR"):
        an.process(np.zeros((10, 10), np.uint8), 0.2)
    k = Intrinsics.from_fov(160, 120, 60)
    mapped = VideoAnalyzer(cfg(plane="map", intrinsics=k, anchor="center"), Rules())
    with pytest.raises(ValueError, match="pose"):
        mapped.process(texture(), 0.0)
    mapped.process(texture(), 0.0, pose=Pose(0.0, 0.0, 0.0, 20.0, 0.0, 90.0))
    with pytest.raises(ValueError, match="intrinsics"):
        AnalyzerConfig(plane="map")
