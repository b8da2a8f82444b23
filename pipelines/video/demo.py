"""``kouan demo`` part for perimeter/patrol video: a patrol robot's stream with an intrusion.

Runs the generated moving-camera patrol clip (a drone/robot camera over the apron, pose sidecar,
port map GeoJSON with the restricted ``fuel_depot`` zone and the ``fence_line`` tripwire) as a
robot feed, and the first visitor of the real ``intel_one-by-one-person-detection.mp4`` clip as
a fixed camera, through the real pieces: evidence store (clip + keyframe), review queue
(findings) and the alarm outbox/bus (restricted zone). No model server is needed (the detector
is background subtraction + OpenCV's bundled HOG), so ``triton_client`` is unused.
Takes ~15-25 s on 2 cores.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from datasets.video_synth import SynthConfig, generate
from kouan.services import Services
from pipelines.video.config import parse_rules
from pipelines.video.portmap import load_port_map
from pipelines.video.run import analyze_source
from pipelines.video.sinks import ClipRecorder, ServicesSink
from pipelines.video.sources import FileSource, RobotSource, load_sidecar

ROBOT_ANALYSIS = {"anchor": "center", "ego_motion": True, "detector": "motion",
                  "min_blob_area": 60, "blob_close_px": [3, 3], "merge_gap_px": 2,
                  "hfov_deg": 60.0}
FIXED_RULES = {"camera": "hall-cam",
               "zones": [{"name": "table", "polygon": [[300, 250], [560, 250], [560, 432],
                                                       [300, 432]], "restricted": True}],
               "tripwires": [{"name": "exit", "a": [620, 432], "b": [620, 240],
                              "forward": "out", "backward": "in", "margin": 4}]}


def run_demo(services: Services, triton_client: Any, realdata_dir: Path) -> dict[str, Any]:
    """Run both streams; return what happened (events, findings, alarms, evidence hashes)."""
    t0 = time.perf_counter()
    sink = ServicesSink(services.evidence, services.queue, services.settings.port_code, {})
    summary: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="kouan-video-demo-") as tmp:
        clip = generate(SynthConfig(seed=0, seconds=12.0))
        paths = clip.write(Path(tmp))
        pm = load_port_map(paths["map"], ROBOT_ANALYSIS)
        sink.rules["patrol-robot-1"] = pm.rules.rules()
        robot = RobotSource(FileSource(paths["video"]), load_sidecar(paths["sidecar"],
                                                                     pm.origin))
        rules = pm.rules.model_copy(update={"camera": "patrol-robot-1"})
        events, stats = analyze_source(
            robot, rules, recorder=ClipRecorder("patrol-robot-1", robot.fps, origin=pm.origin),
            on_package=sink.write)
        summary["patrol_robot"] = {"frames": stats.frames, "fps": round(stats.fps, 1),
                                   "events": [e.to_json() for e in events],
                                   "expected": clip.expected_events}
    real = realdata_dir / "video" / "intel_one-by-one-person-detection.mp4"
    if real.is_file():
        rf = parse_rules(FIXED_RULES)
        sink.rules[rf.camera] = rf.rules()
        src = FileSource(real)
        events, stats = analyze_source(src, rf, every=2, max_seconds=21.0,
                                       recorder=ClipRecorder(rf.camera, src.fps / 2),
                                       on_package=sink.write)
        summary["fixed_camera"] = {"clip": real.name, "frames": stats.frames,
                                   "events": [e.to_json() for e in events]}
    findings = [{"finding": f.id, "type": f.type.value, "severity": f.severity.value,
                 "alarm": a.id if a else None, "evidence": f.evidence,
                 "explanation": f.explanation} for f, a in sink.written]
    summary.update(findings=findings, alarms=sum(1 for f in findings if f["alarm"]),
                   seconds=round(time.perf_counter() - t0, 1))
    json.dumps(summary)  # the summary must stay JSON-serialisable for the demo report
    return summary
