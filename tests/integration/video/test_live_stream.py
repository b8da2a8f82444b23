"""Live streams over HTTP (MJPEG): reconnect after a drop, a stall and an outage; back-pressure;
``kouan video watch``."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kouan.cli.main import main
from kouan.errors import KouanError
from pipelines.video.grabber import FrameGrabber, LiveSource
from pipelines.video.sources import ReconnectPolicy, StreamSource
from tests.integration.video.mjpeg_server import MjpegCamera
from tests.unit.video.factories import moving_box_frames

pytestmark = pytest.mark.slow
FAST = ReconnectPolicy(initial_s=0.2, max_s=1.0, max_attempts=15, open_timeout_s=2.0,
                       read_timeout_s=1.5)


@pytest.fixture
def camera() -> Iterator[MjpegCamera]:
    cam = MjpegCamera(moving_box_frames(40), fps=20.0).start()
    yield cam
    cam.stop()


def read_n(src: StreamSource, n: int) -> list[float]:
    return [f.t for f in (src.read() for _ in range(n)) if f is not None]


def test_stream_reconnects_after_drop_stall_and_outage(camera: MjpegCamera) -> None:
    src = StreamSource(camera.url, FAST)
    assert src.size == (160, 120)
    assert len(read_n(src, 5)) == 5
    camera.drop()  # network cut
    assert len(read_n(src, 5)) == 5
    assert src.reconnects >= 1
    camera.stall(4.0)  # frozen encoder: the read timeout turns it into a reconnect
    t0 = time.monotonic()
    assert len(read_n(src, 3)) == 3
    assert time.monotonic() - t0 < 8.0
    before = src.reconnects
    camera.stop()  # camera off for a while, then back

    def restart() -> None:
        time.sleep(2.0)
        camera.start()

    threading.Thread(target=restart, daemon=True).start()
    assert len(read_n(src, 3)) == 3
    assert src.reconnects > before
    src.close()


def test_unreachable_stream_gives_up_with_a_clear_error() -> None:
    with pytest.raises(KouanError, match="after 3 attempts"):
        StreamSource("http://127.0.0.1:9/none.mjpg",
                     ReconnectPolicy(initial_s=0.05, max_attempts=3, open_timeout_s=0.5))


def test_slow_analysis_drops_frames_and_stays_current(camera: MjpegCamera) -> None:
    grabber = FrameGrabber(StreamSource(camera.url, FAST), capacity=2).start()
    live = LiveSource(grabber, first_timeout_s=5.0, max_seconds=2.5)
    got = []
    while (f := live.read()) is not None:
        got.append(f)
        time.sleep(0.15)  # analysis at ~6 fps against a 20 fps camera
    live.close()
    assert grabber.stats.dropped > 10
    assert len(got) < grabber.stats.read
    assert all(b.index > a.index for a, b in zip(got, got[1:], strict=False))


def test_watch_cli_follows_a_stream(camera: MjpegCamera, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    zones = tmp_path / "zones.json"
    zones.write_text(json.dumps({"zones": [{"name": "yard", "polygon": [[60, 20], [120, 20],
                                                                         [120, 119], [60, 119]]}],
                                 "analysis": {"detector": "motion", "min_blob_area": 60}}))
    assert main(["video", "watch", camera.url, "--zones", str(zones), "--json",
                 "--max-seconds", "5"]) == 0
    out = capsys.readouterr()
    events = [json.loads(line) for line in out.out.strip().splitlines()]
    assert any(e["type"] == "zone_intrusion" and e["zone"] == "yard" for e in events)
    assert "frames analysed" in out.err and "back-pressure" in out.err
