"""Scan ATR throughput and serving overhead.

Run: ``.venv/bin/python bench/bench_scan.py [--n 48]`` -> ``bench/results/scan.json``.

Variants, one run, the same generated scans (raw 16-bit dual-energy baggage pairs at 320 px,
:func:`pipelines.scan.samples.write_samples`, so every scan is decoded and rendered to
pseudo-colour before the detector):

* **pipeline throughput**: ``pipelines.scan.ingest.ingest_refs`` on the local Ray
  (``num_cpus=2``) with 1 and 2 actors against embedded Triton serving the committed
  ``xray_atr`` model, sinks off (``write=False``: what the Ray pipeline itself sustains), then
  2 actors with sinks on (SQLite review queue + local evidence store in a temp data dir).
  Each variant is run once after a warm-up; scaling ratio = 2-actor / 1-actor scans/s, both
  end to end (including Ray Data's actor start-up, paid once per dataset) and steady-state
  (results after the first 10 % to the last), with the machine's busy cores during the run
  (on an otherwise idle box: how much of the 2 cores one and two workers - with Triton, the
  driver and Ray's own processes - actually use, i.e. the headroom scaling can have);
* **scaling at one core per worker**: the same 1- and 2-actor runs with the whole process
  tree (driver, Ray, Triton) pinned to core 0, then to cores 0-1. Unpinned, one worker with
  Triton already keeps ~1.4 of the 2 cores busy, so a second worker on the same box can add at
  most ~40 %; a cluster adds a node's cores with each worker, which pinning stands in for;
* **detector latency** per scan (batch 1, sequential, letterboxed uint8 input): Triton gRPC
  vs in-process ONNX Runtime on the same ``model.onnx`` (p50 / p90, overhead ratio), and the
  full per-scan analysis (decode + render + detect + decode boxes) for both backends.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import psutil

RESULTS = Path(__file__).resolve().parent / "results" / "scan.json"


def _machine() -> dict[str, Any]:
    return {"cpu_count": os.cpu_count(), "load_average_1_5_15": list(os.getloadavg()),
            "python": platform.python_version(), "platform": platform.platform(),
            "versions": {p: version(p) for p in ("numpy", "onnxruntime", "ray", "torch",
                                                 "tritonclient", "nvidia-pytriton")}}


def _pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs) * 1000.0, q))


def _steady_rate(arrivals: list[float], skip: float = 0.1) -> float:
    """Scans/s between the result at the ``skip`` fraction and the last one: the rate of a
    running pipeline, without Ray Data's actor start-up (paid once per dataset, seconds)."""
    k = int(len(arrivals) * skip)
    span = arrivals[-1] - arrivals[k] if len(arrivals) > k + 1 else 0.0
    return (len(arrivals) - 1 - k) / span if span > 0 else 0.0


def _busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy (all cores, all processes) since boot."""
    t = psutil.cpu_times()
    return float(t.user + t.nice + t.system + getattr(t, "irq", 0.0)
                 + getattr(t, "softirq", 0.0))


def _pin_tree(cores: set[int]) -> None:
    """Restrict every thread of this process and of all its descendants (Ray's processes and
    workers, the Triton server) to ``cores``; threads and processes they start later inherit
    it."""
    me = psutil.Process()
    for proc in [me, *me.children(recursive=True)]:
        try:
            threads = [t.id for t in proc.threads()]  # affinity is per thread on Linux
        except psutil.Error:  # a process that just exited
            continue
        for tid in threads:
            with contextlib.suppress(OSError):  # a thread that just exited
                os.sched_setaffinity(tid, cores)


def _arrival_recorder(arrivals: list[float]) -> Callable[[Any], None]:
    def record(_result: Any) -> None:
        arrivals.append(time.perf_counter())
    return record


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=48, help="scans per pipeline run")
    ap.add_argument("--reps", type=int, default=40, help="latency repetitions")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import ray

    from kouan.config import Settings
    from kouan.services import build_services
    from pipelines.scan.analyze import ScanAnalyzer
    from pipelines.scan.cargo import CargoCalibration
    from pipelines.scan.decode import scan_refs
    from pipelines.scan.detector import OnnxDetector, TritonDetector
    from pipelines.scan.ingest import ingest_refs
    from pipelines.scan.samples import write_samples
    from pipelines.scan.sources import folder_files
    from serving import xray_atr
    from serving.client import TritonClient
    from serving.embedded import EmbeddedTriton
    from serving.repository import default_repository

    out: dict[str, Any] = {"machine": _machine(), "n_scans": args.n}
    with tempfile.TemporaryDirectory(prefix="bench-scan-") as tmp_s:
        tmp = Path(tmp_s)
        scans = tmp / "scans"
        write_samples(scans, bags=args.n, cargo=False, ct=0, corrupt=False)
        refs = scan_refs(folder_files(scans))
        card = xray_atr.load_card()
        out["model"] = {"name": card.name, "version": card.version, "input": card.size}
        with EmbeddedTriton(default_repository(), tmp / "triton", models=[card.name]) as ts:
            out["triton_startup_s"] = round(ts.startup_s or 0.0, 2)
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
            logging.getLogger("ray.data").setLevel(logging.WARNING)
            settings = Settings(data_dir=tmp / "data")
            services = build_services(settings)
            try:
                ingest_refs(refs[:8], services, ts.grpc_url, workers=1, write=False)  # warm-up
                runs: dict[str, Any] = {}
                all_cores = set(range(os.cpu_count() or 1))
                for name, workers, write, cores in (
                        ("1_worker", 1, False, all_cores), ("2_workers", 2, False, all_cores),
                        ("2_workers_with_sinks", 2, True, all_cores),
                        ("1_worker_1_core", 1, False, {0}),
                        ("2_workers_2_cores", 2, False, {0, 1})):
                    _pin_tree(cores)
                    arrivals: list[float] = []
                    busy0 = _busy_cpu_s()
                    r = ingest_refs(refs, services, ts.grpc_url, workers=workers,
                                    batch_size=8, write=write,
                                    on_result=_arrival_recorder(arrivals))
                    runs[name] = {"seconds": round(r.seconds, 2),
                                  "scans_per_s": round(r.scans_per_s, 2),
                                  "steady_scans_per_s": round(_steady_rate(arrivals), 2),
                                  "machine_cores_busy": round(
                                      (_busy_cpu_s() - busy0) / r.seconds, 2)}
                _pin_tree(all_cores)
                for key in ("scans_per_s", "steady_scans_per_s"):
                    runs[f"scaling_2_vs_1_{key}"] = round(
                        runs["2_workers"][key] / runs["1_worker"][key], 3)
                    runs[f"scaling_per_core_2_vs_1_{key}"] = round(
                        runs["2_workers_2_cores"][key] / runs["1_worker_1_core"][key], 3)
                out["pipeline"] = runs
            finally:
                services.close()
                ray.shutdown()
            client = TritonClient(ts.grpc_url, timeout_s=30)
            triton = TritonDetector(client, card)
            onnx = OnnxDetector()
            batch = np.random.default_rng(0).integers(0, 256, (1, 3, card.size, card.size),
                                                      dtype=np.uint8)
            lat: dict[str, list[float]] = {"triton_grpc": [], "onnxruntime": []}
            for _ in range(3):
                triton.score(batch)
                onnx.score(batch)
            for _ in range(args.reps):
                for key, det in (("triton_grpc", triton), ("onnxruntime", onnx)):
                    t0 = time.perf_counter()
                    det.score(batch)
                    lat[key].append(time.perf_counter() - t0)
            cal = CargoCalibration.load()
            full: dict[str, list[float]] = {"triton_grpc": [], "onnxruntime": []}
            for key, det in (("triton_grpc", triton), ("onnxruntime", onnx)):
                an = ScanAnalyzer(det, cal, "BENCH")
                for ref in refs[: min(len(refs), args.reps)]:
                    t0 = time.perf_counter()
                    an.analyze([ref])
                    full[key].append(time.perf_counter() - t0)
            client.close()
        out["detector_latency_ms"] = {
            k: {"p50": round(_pct(v, 50), 2), "p90": round(_pct(v, 90), 2)}
            for k, v in lat.items()}
        out["detector_latency_ms"]["triton_overhead_ratio_p50"] = round(
            statistics.median(lat["triton_grpc"]) / statistics.median(lat["onnxruntime"]), 3)
        out["per_scan_analysis_ms"] = {
            k: {"p50": round(_pct(v, 50), 2), "p90": round(_pct(v, 90), 2)}
            for k, v in full.items()}
        out["per_scan_analysis_ms"]["triton_overhead_ratio_p50"] = round(
            statistics.median(full["triton_grpc"]) / statistics.median(full["onnxruntime"]), 3)
    out["machine"]["load_average_after"] = list(os.getloadavg())
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
