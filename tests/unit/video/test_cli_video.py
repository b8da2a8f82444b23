"""``kouan video analyze`` on tiny generated clips (the real clips run in tests/integration)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kouan.cli.main import main
from kouan.domain import Alarm
from kouan.services import Services
from tests.unit.video.factories import moving_box_frames, write_clip

RULES = {"camera": "unit-cam",
         "zones": [{"name": "yard", "polygon": [[60, 20], [120, 20], [120, 119], [60, 119]],
                    "restricted": True}],
         "tripwires": [{"name": "line", "a": [90, 119], "b": [90, 0], "forward": "east",
                        "backward": "west", "margin": 2}],
         "analysis": {"detector": "motion", "min_blob_area": 60}}


@pytest.fixture
def clip(tmp_path: Path) -> tuple[Path, Path]:
    video = tmp_path / "walk.avi"
    write_clip(video, moving_box_frames(36, speed=4.0))
    zones = tmp_path / "zones.json"
    zones.write_text(json.dumps(RULES))
    return video, zones


def test_analyze_prints_one_json_event_per_line(clip: tuple[Path, Path],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    video, zones = clip
    assert main(["video", "analyze", str(video), "--zones", str(zones), "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    events = [json.loads(line) for line in lines]
    assert {"t_start", "t_end", "type", "track_id", "zone", "box"} <= set(events[0])
    kinds = sorted((e["type"], e["zone"], e.get("direction")) for e in events)
    assert kinds == [("tripwire", "line", "east"), ("zone_intrusion", "yard", None)]
    cross = next(e for e in events if e["type"] == "tripwire")
    # the box's bottom-centre reaches x = 90 when its left edge is at 83: i = 19.5 -> t = 2 s
    assert cross["t_start"] == pytest.approx(2.0, abs=0.35)


def test_analyze_plain_text(clip: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    video, zones = clip
    assert main(["video", "analyze", str(video), "--zones", str(zones)]) == 0
    out = capsys.readouterr()
    assert "zone_intrusion" in out.out and "frames analysed" in out.err


def test_submit_reaches_queue_bus_outbox_and_evidence(
        clip: tuple[Path, Path], services: Services,
        capsys: pytest.CaptureFixture[str]) -> None:
    video, zones = clip
    assert main(["video", "analyze", str(video), "--zones", str(zones), "--submit"]) == 0
    assert "finding fnd-" in capsys.readouterr().err
    items = services.queue.list_items()
    assert sorted(i.finding.type.value for i in items) == ["tripwire", "zone_intrusion"]
    intrusion = next(i.finding for i in items if i.finding.type.value == "zone_intrusion")
    assert intrusion.modality is not None and intrusion.modality.value == "patrol_video"
    clip_bytes = services.evidence.get_object(intrusion.evidence[0])
    assert clip_bytes[4:8] == b"ftyp"  # an MP4 clip
    assert services.evidence.get_object(intrusion.evidence[1])[:2] == b"\xff\xd8"  # JPEG
    services.relay.relay_once()  # whatever the CLI's relay had not published yet
    sub = services.bus.subscribe("command-centre")  # a default durable consumer
    alarms = [Alarm.model_validate_json(d.data) for d in sub.fetch(10, 1.0)]
    sub.close()
    # the zone is restricted: its intrusion alarms; the tripwire has no alarm_on
    assert [(a.finding_id, a.type.value) for a in alarms] == [(intrusion.id, "zone_intrusion")]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("garbage_video", "cannot open|no decodable"),
        ("bad_zone", "crosses itself"),
        ("zone_outside", "outside the 160x120 frame"),
        ("map_without_poses", "--poses"),
        ("no_rules", "--zones"),
        ("bad_start", "ISO time"),
    ],
)
def test_bad_input_exits_2_with_a_reason(setup: str, message: str, clip: tuple[Path, Path],
                                         tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    video, zones = clip
    argv = ["video", "analyze", str(video), "--zones", str(zones)]
    if setup == "garbage_video":
        junk = tmp_path / "junk.mp4"
        junk.write_bytes(b"junk" * 1000)
        argv[2] = str(junk)
    elif setup in ("bad_zone", "zone_outside"):
        poly = ([[0, 0], [50, 50], [50, 0], [0, 50]] if setup == "bad_zone"
                else [[0, 0], [500, 0], [500, 50]])
        zones.write_text(json.dumps({"zones": [{"name": "z", "polygon": poly}]}))
    elif setup == "map_without_poses":
        gj = tmp_path / "map.geojson"
        gj.write_text(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": "z"}, "geometry": {
                "type": "Polygon", "coordinates": [[[111.0, 43.0], [111.001, 43.0],
                                                    [111.001, 43.001], [111.0, 43.0]]]}}]}))
        argv += ["--map", str(gj)]
    elif setup == "no_rules":
        argv = argv[:3]
    elif setup == "bad_start":
        argv += ["--start", "yesterday"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert __import__("re").search(message, err), err


def test_sidecar_without_timestamps_exits_2(clip: tuple[Path, Path], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    video, _ = clip
    gj = tmp_path / "map.geojson"
    gj.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "z"}, "geometry": {
            "type": "Polygon", "coordinates": [[[111.0, 43.0], [111.001, 43.0],
                                                [111.001, 43.001], [111.0, 43.0]]]}}]}))
    poses = tmp_path / "poses.jsonl"
    poses.write_text('{"x": 0, "y": 0, "height_m": 20, "heading_deg": 0, "pitch_deg": 90}\n')
    assert main(["video", "analyze", str(video), "--map", str(gj), "--poses", str(poses)]) == 2
    assert "line 1: missing or invalid timestamp" in capsys.readouterr().err
