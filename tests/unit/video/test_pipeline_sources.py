from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from kouan.errors import UsageError
from pipelines.video.grabber import FrameGrabber
from pipelines.video.sources import (
    FileSource,
    Frame,
    PoseTrack,
    RobotSource,
    load_sidecar,
    parse_pose_line,
)
from tests.unit.video.factories import moving_box_frames, write_clip
from vision.video.ground import GeoOrigin, Pose


def test_file_source_reads_frames_with_times(tmp_path: Path) -> None:
    p = tmp_path / "c.avi"
    write_clip(p, moving_box_frames(12), fps=5.0)
    src = FileSource(p)
    frames = []
    while (f := src.read()) is not None:
        frames.append(f)
    assert len(frames) == 12 and src.size == (160, 120) and src.fps == 5.0
    assert [f.t for f in frames[:3]] == [0.0, 0.2, 0.4]
    assert not src.truncated


def test_garbage_and_missing_files_are_usage_errors(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00not a video" * 100)
    with pytest.raises(UsageError, match="cannot open|no decodable"):
        FileSource(junk)
    with pytest.raises(UsageError, match="does not exist"):
        FileSource(tmp_path / "nope.mp4")


def test_truncated_file_yields_what_decodes_and_says_so(tmp_path: Path) -> None:
    p = tmp_path / "c.avi"
    write_clip(p, moving_box_frames(40))
    data = p.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    src = FileSource(cut)
    n = 0
    while src.read() is not None:
        n += 1
    assert 0 < n < 40
    assert src.truncated


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"x": 1, "y": 2, "height_m": 5, "heading_deg": 0, "pitch_deg": 90}', "timestamp"),
        ('{"t": "soon", "x": 1, "y": 2}', "timestamp"),
        ('{"t": 1.0, "height_m": 5, "heading_deg": 0, "pitch_deg": 90}', "x/y"),
        ('{"t": 1.0, "x": 1, "y": 2, "heading_deg": 0, "pitch_deg": 90}', "height_m"),
        ('{"t": 1.0, "lon": 111.9, "lat": 43.6, "height_m": 5, "heading_deg": 0, '
         '"pitch_deg": 90}', "origin"),
        ("[1, 2]", "JSON object"),
        ("{oops", "not JSON"),
    ],
)
def test_bad_sidecar_lines(line: str, message: str) -> None:
    with pytest.raises(UsageError, match=f"line 7: .*{message}"):
        parse_pose_line(line, 7, None)


def test_sidecar_with_gps_and_interpolation(tmp_path: Path) -> None:
    o = GeoOrigin(111.97, 43.65)
    lines = []
    for t, heading in [(0.0, 350.0), (1.0, 10.0)]:
        lon, lat = o.to_lonlat(10.0 * t, 0.0)
        lines.append(json.dumps({"t": t, "lon": lon, "lat": lat, "height_m": 20,
                                 "heading_deg": heading, "pitch_deg": 90}))
    p = tmp_path / "poses.jsonl"
    p.write_text("\n".join(lines) + "\n\n")
    track = load_sidecar(p, o)
    mid = track.at(0.5)
    assert mid is not None
    assert mid.x == pytest.approx(5.0, abs=0.01) and mid.y == pytest.approx(0.0, abs=0.01)
    assert mid.heading_deg == pytest.approx(0.0, abs=1e-6)  # the short way round 350 -> 10
    assert track.at(1.8) is not None and track.at(2.5) is None  # beyond max_gap_s = 1
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(UsageError, match="no poses"):
        load_sidecar(empty)


class _ListSource:
    name, fps, size = "list", 10.0, (8, 8)

    def __init__(self, n: int, delay: float = 0.0, fail_at: int | None = None) -> None:
        self.n, self.delay, self.fail_at, self.i = n, delay, fail_at, 0
        self.closed = threading.Event()

    def read(self) -> Frame | None:
        if self.fail_at is not None and self.i == self.fail_at:
            raise RuntimeError("camera unplugged")
        if self.i >= self.n:
            return None
        time.sleep(self.delay)
        self.i += 1
        return Frame(self.i - 1, (self.i - 1) / 10, np.zeros((8, 8, 3), np.uint8))

    def close(self) -> None:
        self.closed.set()


def test_robot_source_skips_frames_without_pose() -> None:
    track = PoseTrack([Pose(0.5, 0, 0, 10, 0, 90), Pose(0.9, 1, 0, 10, 0, 90)], max_gap_s=0.2)
    rs = RobotSource(_ListSource(15), track)
    got = []
    while (f := rs.read()) is not None:
        got.append(f)
    assert [f.index for f in got] == [3, 4, 5, 6, 7, 8, 9, 10]
    assert all(f.pose is not None for f in got) and rs.frames_without_pose == 7


def test_grabber_drops_oldest_frames_instead_of_blocking() -> None:
    src = _ListSource(200)
    g = FrameGrabber(src, capacity=2).start()
    seen = []
    while not g.finished:
        f = g.get(timeout=0.2)
        if f is not None:
            seen.append(f.index)
            time.sleep(0.005)  # analysis slower than the camera
    assert g.stats.read == 200 and g.stats.dropped > 50
    assert g.stats.delivered + g.stats.dropped == 200
    assert seen == sorted(seen) and seen[-1] == 199  # in order, and the newest gets through
    assert src.closed.is_set()  # the reader thread released the source


def test_grabber_keeps_a_source_error_for_its_owner() -> None:
    g = FrameGrabber(_ListSource(100, fail_at=5)).start()
    while not g.finished:
        g.get(timeout=0.2)
    assert isinstance(g.error, RuntimeError) and "unplugged" in str(g.error)


def test_blocking_grabber_loses_nothing() -> None:
    g = FrameGrabber(_ListSource(60), capacity=2, block=True).start()
    seen = []
    while not g.finished:
        f = g.get(timeout=0.2)
        if f is not None:
            seen.append(f.index)
            time.sleep(0.002)
    assert seen == list(range(60)) and g.stats.dropped == 0
