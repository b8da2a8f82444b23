"""The generated moving-camera clip (datasets/video_synth.py): ego-motion compensation, map-plane
rules from a GeoJSON port map, geo-tagging from the pose sidecar, day and night."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from datasets.video_synth import SynthClip, SynthConfig, generate
from kouan.cli.main import main
from pipelines.video.portmap import load_port_map
from pipelines.video.run import analyze_source
from pipelines.video.sources import FileSource, RobotSource, load_sidecar

pytestmark = pytest.mark.slow
ANALYSIS = {"analysis": {"anchor": "center", "ego_motion": True, "detector": "motion",
                         "min_blob_area": 60, "blob_close_px": [3, 3], "merge_gap_px": 2,
                         "hfov_deg": 60.0}}


def write(clip: SynthClip, folder: Path) -> dict[str, Path]:
    paths = clip.write(folder)
    paths["analysis"] = folder / "analysis.json"
    paths["analysis"].write_text(json.dumps(ANALYSIS))
    return paths


def match(events: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    """Every expected event is found once (same type/rule/direction, within 1 s and 1 m) and
    nothing else is reported."""
    assert len(events) == len(expected), events
    for exp in expected:
        hits = [e for e in events if e["type"] == exp["type"] and e["zone"] == exp["zone"]
                and e.get("direction") == exp.get("direction")
                and abs(e["t_start"] - exp["t"]) <= 1.0]
        assert len(hits) == 1, (exp, events)
        wx, wy = hits[0]["world"]
        assert abs(wx - exp["world"][0]) < 1.0 and abs(wy - exp["world"][1]) < 1.0


def test_generated_clip_is_deterministic() -> None:
    cfg = SynthConfig(seed=3, seconds=2.0, width=128, height=72)
    a, b = generate(cfg), generate(cfg)
    assert all((x == y).all() for x, y in zip(a.frames(), b.frames(), strict=True))
    assert a.expected_events == b.expected_events
    assert not all((x == y).all() for x, y in zip(
        a.frames(), generate(SynthConfig(seed=4, seconds=2.0, width=128, height=72)).frames(),
        strict=True))


def test_cli_on_moving_camera_clip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = generate(SynthConfig(seed=0))
    assert [e["type"] for e in clip.expected_events] == ["zone_intrusion", "tripwire"]
    p = write(clip, tmp_path)
    assert main(["video", "analyze", str(p["video"]), "--map", str(p["map"]),
                 "--poses", str(p["sidecar"]), "--zones", str(p["analysis"]), "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    match(events, clip.expected_events)


def test_night_clip_uses_low_light_enhancement(tmp_path: Path) -> None:
    clip = generate(SynthConfig(seed=0, night=True))
    p = write(clip, tmp_path)
    pm = load_port_map(p["map"], ANALYSIS["analysis"])
    src = RobotSource(FileSource(p["video"]), load_sidecar(p["sidecar"], pm.origin))
    events, stats = analyze_source(src, pm.rules)
    assert stats.low_light_frames == stats.frames > 100
    match([e.to_json() for e in events], clip.expected_events)
