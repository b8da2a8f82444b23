"""One Ray actor per stream: a robot feed (generated moving-camera clip with pose sidecar and
port map), a real fixed camera (highway clip, paced like a live camera) and a broken stream,
side by side; their evidence and findings land in the services, the broken one is isolated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datasets.video_synth import SynthConfig, generate
from kouan.domain import Alarm
from kouan.realdata import realdata_dir
from kouan.services import Services
from pipelines.video.sinks import ServicesSink
from pipelines.video.sources import ReconnectPolicy
from pipelines.video.streams import StreamSpec, StreamSupervisor

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]
HIGHWAY = realdata_dir() / "video" / "bgslibrary_video02.avi"
ANN = json.loads((ROOT / "tests" / "data" / "video" / "counting_annotations.json").read_text())
ROBOT_ANALYSIS = {"anchor": "center", "ego_motion": True, "detector": "motion",
                  "min_blob_area": 60, "blob_close_px": [3, 3], "merge_gap_px": 2,
                  "hfov_deg": 60.0}


def test_streams_run_in_parallel_actors_and_feed_the_services(
        ray_local: None, services: Services, tmp_path: Path) -> None:
    clip = generate(SynthConfig(seed=0, seconds=12.0))
    paths = clip.write(tmp_path / "robot")
    sink = ServicesSink(services.evidence, services.queue, "ERENHOT", {})
    sup = StreamSupervisor(sink)
    sup.add(StreamSpec("robot-1", str(paths["video"]), "file",
                       rules={"analysis": ROBOT_ANALYSIS}, port_map=clip.port_map_geojson(),
                       sidecar=str(paths["sidecar"]), realtime=False))
    sup.add(StreamSpec("highway", str(HIGHWAY), "file",
                       rules=ANN["clips"]["bgslibrary_video02.avi"]["rules"], realtime=True))
    sup.add(StreamSpec("broken", "http://127.0.0.1:9/cam.mjpg", "live",
                       reconnect=ReconnectPolicy(initial_s=0.1, max_attempts=3,
                                                 open_timeout_s=0.5)))
    try:
        status = sup.run_until_done(timeout_s=240)
    finally:
        final = sup.stop()
    assert "cannot open" in (status["broken"]["error"] or "")
    for name in ("robot-1", "highway"):
        assert status[name]["error"] is None and status[name]["done"], status[name]
    assert status["highway"]["read"] == 748  # paced at 25 fps: dropped ones are counted
    assert status["highway"]["processed"] + status["highway"]["dropped"] == 748
    assert final["robot-1"]["processed"] > 100
    robot = sorted((e["type"], e["zone"]) for e in sup.events["robot-1"])
    assert robot == [("tripwire", "fence_line"), ("zone_intrusion", "fuel_depot")]
    assert len(sup.events["highway"]) >= 15  # vehicles crossing the counting line

    items = services.queue.list_items(limit=200)
    assert len(items) == len(sup.events["robot-1"]) + len(sup.events["highway"])
    intrusion = next(i.finding for i in items if i.finding.type.value == "zone_intrusion")
    assert "robot-1" in intrusion.explanation and "lon 111.97" in intrusion.explanation
    assert services.evidence.get_object(intrusion.evidence[0])[4:8] == b"ftyp"
    services.relay.relay_once()
    sub = services.bus.subscribe("command-centre")
    alarms = [Alarm.model_validate_json(d.data) for d in sub.fetch(50, 1.0)]
    sub.close()
    # fuel_depot is restricted on the port map: exactly its intrusion raised an alarm
    assert [a.finding_id for a in alarms] == [intrusion.id]
