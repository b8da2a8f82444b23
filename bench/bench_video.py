"""Perimeter video: frames/s per 720p stream, concurrent 720p streams at 5 fps per 2-core box,
and counting accuracy per detector on the hand-annotated real clips.

Run: ``.venv/bin/python bench/bench_video.py [--quick]`` (about 10 minutes; ``--quick`` ~3)
-> ``bench/results/video.json``.

1. ``single_stream``: the analysis chain on 720p frames (the real ``intel_one-by-one`` clip
   upscaled to 1280x720, decoded beforehand so only analysis is timed), per detector variant,
   with OpenCV limited to 1 and to 2 threads: wall fps and CPU ms per frame (process CPU time,
   which other load on a shared box does not inflate). Ratios against ``motion`` at 1 thread.
2. ``stream_cost``: decode + analysis of a 720p 5 fps recording in CPU ms per frame, and the
   streams-per-box estimate it implies: ``2 cores x frames per CPU second / 5 fps`` (raw, and
   at 80 % utilisation).
3. ``concurrent``: N Ray actors (one per stream, ``pipelines.video.streams``), each fed a
   1280x720 recording paced at 5 fps like a camera (decode included, frames dropped when the
   analysis falls behind), on a Ray limited to 2 CPUs. A box *holds* N streams when every
   stream analyses >= 95 % of its frames. N grows until a level fails. Wall-clock bound: on a
   box shared with other work (see the load averages) this under-states capacity; the CPU-time
   estimate of ``stream_cost`` does not.
4. ``accuracy``: counting accuracy, recall and false events per minute of each detector on the
   clips annotated in ``tests/data/video`` (full-frame HOG only every 5th frame: it is slow).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from kouan.realdata import realdata_dir

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REAL = realdata_dir() / "video"
ANN = json.loads((ROOT / "tests" / "data" / "video" / "counting_annotations.json").read_text())
INTEL = "intel_one-by-one-person-detection.mp4"
RULES_720 = {"camera": "bench", "zones": [{"name": "table", "polygon": [
    [500, 417], [933, 417], [933, 720], [500, 720]], "restricted": True}],
    "tripwires": [{"name": "exit", "a": [1033, 720], "b": [1033, 400], "forward": "out",
                   "backward": "in"}]}


def _machine() -> dict[str, Any]:
    import ray

    return {"cpu_count": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "opencv": cv2.__version__,
            "numpy": np.__version__, "ray": ray.__version__,
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def _frames_720(n: int, step: int = 1) -> list[npt.NDArray[np.uint8]]:
    cap = cv2.VideoCapture(str(REAL / INTEL))
    out: list[npt.NDArray[np.uint8]] = []
    i = 0
    while len(out) < n:
        ok, f = cap.read()
        if not ok:
            break
        if i % step == 0:
            out.append(np.asarray(cv2.resize(f, (1280, 720), interpolation=cv2.INTER_LINEAR),
                                  dtype=np.uint8))
        i += 1
    return out


def single_stream(frames: list[npt.NDArray[np.uint8]], hog_frames: int) -> dict[str, Any]:
    """Analysis only (frames decoded beforehand): wall fps and CPU ms per frame."""
    from pipelines.video.config import parse_rules
    from vision.video.analyzer import VideoAnalyzer

    out: dict[str, Any] = {}
    for threads in (1, 2):
        cv2.setNumThreads(threads)
        for det in ("motion", "motion+hog", "hog"):
            rf = parse_rules({**RULES_720, "analysis": {"detector": det}})
            an = VideoAnalyzer(rf.analyzer_config(5.0, (1280, 720)), rf.rules())
            use = frames[:hog_frames] if det == "hog" else frames
            an.process(use[0], 0.0)  # warm-up (allocations, HOG descriptor)
            runs = []
            for r in range(1 if det == "hog" else 2):  # a shared box is noisy: cheapest run
                t0, c0 = time.perf_counter(), time.process_time()
                for i, f in enumerate(use[1:], 1):
                    an.process(f, (r * len(use) + i) / 5.0)
                runs.append((time.process_time() - c0, time.perf_counter() - t0))
            dc, dt = min(runs)
            n = len(use) - 1
            out[f"{det}@{threads}thr"] = {"frames": n, "wall_fps": round(n / dt, 1),
                                          "cpu_ms_per_frame": round(1000 * dc / n, 1)}
            print(f"single {det} threads={threads}: {n / dt:.1f} fps wall, "
                  f"{1000 * dc / n:.1f} CPU ms/frame", flush=True)
    base = out["motion@1thr"]["cpu_ms_per_frame"]
    for v in out.values():
        v["cpu_cost_ratio_vs_motion_1thr"] = round(v["cpu_ms_per_frame"] / base, 2)
    cv2.setNumThreads(2)
    return out


def stream_cost(clip: Path, detector: str) -> dict[str, Any]:
    """What one camera costs: decode + analysis of the 720p 5 fps recording, one OpenCV thread,
    in CPU time (robust to other load on a shared box), and the streams-per-box estimate."""
    from pipelines.video.config import parse_rules
    from pipelines.video.run import analyze_source
    from pipelines.video.sources import FileSource

    cv2.setNumThreads(1)
    runs = []
    for _ in range(3):  # a shared box is noisy: keep the cheapest of three runs
        c0, t0 = time.process_time(), time.perf_counter()
        _, stats = analyze_source(FileSource(clip), parse_rules(
            {**RULES_720, "analysis": {"detector": detector}}))
        runs.append((1000 * (time.process_time() - c0) / stats.frames,
                     time.perf_counter() - t0))
    cpu_ms, wall = min(runs)
    cv2.setNumThreads(2)
    per_core = 1000.0 / cpu_ms
    out = {"frames": stats.frames, "cpu_ms_per_frame": round(cpu_ms, 1),
           "wall_fps": round(stats.frames / wall, 1), "frames_per_cpu_second": round(per_core, 1),
           "streams_at_5fps_2_cores_full_load": int(2 * per_core / 5),
           "streams_at_5fps_2_cores_80pct": int(0.8 * 2 * per_core / 5)}
    print(f"stream cost {detector}: {out}", flush=True)
    return out


def _write_720p_clip(path: Path, frames: list[npt.NDArray[np.uint8]], fps: float) -> None:
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (1280, 720))
    for f in frames:
        vw.write(f)
    vw.release()


def concurrent(clip: Path, levels: list[int], detector: str) -> dict[str, Any]:
    import ray

    from pipelines.video.streams import StreamSpec, StreamSupervisor

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    results: dict[str, Any] = {}
    try:
        for n in levels:
            sup = StreamSupervisor(None, cpus_per_stream=min(1.0, 2.0 / n))
            rules = {**RULES_720, "analysis": {"detector": detector}}
            t0 = time.perf_counter()
            for k in range(n):
                sup.add(StreamSpec(f"cam{k}", str(clip), "file", rules, realtime=True))
            status = sup.run_until_done(timeout_s=300)
            sup.stop()
            wall = time.perf_counter() - t0
            per = [{k: s.get(k) for k in ("read", "processed", "dropped", "error", "cpu_s",
                                          "wall_s")} for s in status.values()]
            worst = min((p["processed"] or 0) / max(1, p["read"] or 0) for p in per)
            holds = worst >= 0.95 and not any(p["error"] for p in per)
            # CPU share one stream needs (cores), from the actors' own process CPU time
            cores = [p["cpu_s"] / p["wall_s"] for p in per if p["cpu_s"] and p["wall_s"]]
            results[str(n)] = {"streams": per, "worst_processed_fraction": round(worst, 3),
                               "holds": holds, "wall_s": round(wall, 1),
                               "cores_per_stream": round(sum(cores) / len(cores), 3)
                               if cores else None,
                               "load_average": [round(x, 2) for x in os.getloadavg()]}
            print(f"concurrent {detector} n={n}: worst processed {worst:.1%} "
                  f"{'holds' if holds else 'FAILS'}", flush=True)
            if not holds:
                break
    finally:
        ray.shutdown()
    held = [int(k) for k, v in results.items() if v["holds"]]
    one = results.get("1", {}).get("cores_per_stream")
    return {"detector": detector, "levels": results, "streams_held": max(held, default=0),
            "cores_per_stream_alone": one,
            "streams_per_2_cores_from_actor_cpu": int(2 / one) if one else None}


def accuracy(quick: bool) -> dict[str, Any]:
    from pipelines.video.config import parse_rules
    from pipelines.video.evaluate import score
    from pipelines.video.run import analyze_source
    from pipelines.video.sources import FileSource

    out: dict[str, Any] = {}
    for name, clip in ANN["clips"].items():
        variants = [("motion", 1)]
        if name == INTEL:  # people: the HOG variants matter (vehicles are not its job)
            variants += [("motion+hog", 1), ("hog", 5)]
        for det, every in variants:
            if quick and det != "motion":
                continue
            rules = dict(clip["rules"])
            rules["analysis"] = dict(rules.get("analysis", {}), detector=det)
            t0 = time.perf_counter()
            events, stats = analyze_source(FileSource(REAL / name), parse_rules(rules),
                                           every=every)
            s = score(events, clip["events"], clip["duration_s"], ANN["match_tolerance_s"],
                      {"zone_intrusion", "tripwire"})
            labels = sorted({e.label for e in events if e.type.value == "zone_intrusion"})
            out[f"{name}|{det}|every{every}"] = s.as_dict() | {
                "analysis_fps": round(stats.fps, 1), "wall_s": round(time.perf_counter() - t0, 1),
                "intrusion_labels": labels}
            print(f"accuracy {name} {det}: {s.as_dict()}", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer frames and levels")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "video.json")
    args = ap.parse_args()
    machine = _machine()
    t0 = time.perf_counter()
    frames = _frames_720(60 if args.quick else 200, step=2)  # 10 fps clip -> 5 fps
    res: dict[str, Any] = {"bench": "video", "machine": machine, "args": vars(args) | {
        "out": str(args.out)}}
    res["single_stream"] = single_stream(frames, hog_frames=10 if args.quick else 25)
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "cam720p5fps.mp4"
        _write_720p_clip(clip, frames[:60] if args.quick else frames[:125], 5.0)
        res["stream_cost"] = {d: stream_cost(clip, d) for d in ("motion+hog", "motion")}
        levels = [1, 2, 4] if args.quick else [1, 2, 4, 6, 8, 10, 12]
        res["concurrent"] = {d: concurrent(clip, levels, d) for d in ("motion+hog",)}
    res["accuracy"] = accuracy(args.quick)
    res["seconds"] = round(time.perf_counter() - t0, 1)
    res["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1) + "\n")
    print(f"wrote {args.out} in {res['seconds']} s")


if __name__ == "__main__":
    main()
