from __future__ import annotations

import pytest

from kouan.realdata import realdata_dir
from kouan.services import Services
from pipelines.video.demo import run_demo

pytestmark = pytest.mark.slow
REALDATA = realdata_dir()


def test_demo_patrol_stream_raises_an_intrusion_alarm(services: Services) -> None:
    out = run_demo(services, None, REALDATA)
    robot = out["patrol_robot"]
    assert sorted(e["type"] for e in robot["events"]) == ["tripwire", "zone_intrusion"]
    intrusions = [f for f in out["findings"] if f["type"] == "zone_intrusion"]
    assert any(f["alarm"] and "patrol-robot-1" in f["explanation"] for f in intrusions)
    assert out["fixed_camera"]["events"]  # the first visitor of the real clip
    assert len(services.queue.list_items()) == len(out["findings"])
    assert out["seconds"] < 60
