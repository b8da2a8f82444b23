"""What embedded Triton costs over in-process ONNX Runtime, for the served PP-OCR rec model.

Run: ``.venv/bin/python bench/bench_triton_overhead.py`` (about a minute on 2 cores) ->
``bench/results/triton_overhead.json``.

Variants, one run, same input (a real plate crop from ../shared/realdata/plates_cn, padded to
``[1, 3, 48, 320]``; the reply is ``[1, 40, 18710]`` float32 = 3.0 MB):

* batch-1 latency, sequential: in-process ORT vs Triton gRPC vs Triton HTTP (p50/p99, ratios);
* the same over gRPC for ``ppocr_rec_greedy``, a bench-only copy of the graph with an
  ArgMax/ReduceMax head (reply ``2 x [1, 40]`` = 480 B): how much of the overhead is the 3 MB reply;
* throughput with 8 concurrent gRPC callers: ``ppocr_rec`` (dynamic batching, 2 ms queue delay)
  vs ``ppocr_rec_nobatch`` -- model folders in one temporary repository, rendered from
  ``serving.ppocr.PPOCR_REC`` (the second with ``dynamic_batching=None``) and sharing one
  ``model.onnx`` via a symlink; plus ``ppocr_rec_greedy`` with dynamic batching. Mean executed
  batch size comes from Triton's metrics.
* embedded Triton startup (process start to all models ready) and stop times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

from kouan.realdata import realdata_dir
from serving import ppocr
from serving.bundled import prepare_repository
from serving.client import TritonClient
from serving.embedded import EmbeddedTriton
from serving.model_config import TensorSpec
from serving.repository import write_config
from vision.ocr_rec_preprocess import rec_batch

Array = npt.NDArray[Any]
CROP = realdata_dir() / "plates_cn/lprnet_crops/皖AS6W73.jpg"
RESULTS = Path(__file__).resolve().parent / "results" / "triton_overhead.json"
NOBATCH = f"{ppocr.MODEL_NAME}_nobatch"
GREEDY = f"{ppocr.MODEL_NAME}_greedy"
GREEDY_OUT = ("ctc_indices", "ctc_scores")


def _percentiles(samples_s: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples_s)
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p99_ms": round(ms[min(len(ms) - 1, int(0.99 * len(ms)))], 2),
        "mean_ms": round(statistics.fmean(ms), 2),
    }


def _time_calls(fn: Any, n: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return samples


def _metric(url: str, name: str, model: str) -> float:
    with urllib.request.urlopen(url, timeout=5) as resp:
        text = resp.read().decode()
    found = re.search(rf'^{name}{{model="{model}",version="1"}} (\S+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else float("nan")


def _throughput(client: TritonClient, server: EmbeddedTriton, model: str, x: Array,
                outputs: list[str], concurrency: int, per_thread: int) -> dict[str, float]:
    count0 = _metric(server.metrics_url, "nv_inference_count", model)
    exec0 = _metric(server.metrics_url, "nv_inference_exec_count", model)
    barrier = threading.Barrier(concurrency)

    def worker(_: int) -> list[float]:
        barrier.wait()
        return _time_calls(lambda: client.infer(model, {ppocr.INPUT_NAME: x}, outputs),
                           per_thread, 0)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = [s for part in pool.map(worker, range(concurrency)) for s in part]
    wall = time.perf_counter() - t0
    inferences = _metric(server.metrics_url, "nv_inference_count", model) - count0
    executions = _metric(server.metrics_url, "nv_inference_exec_count", model) - exec0
    return {
        "requests": len(latencies),
        "wall_s": round(wall, 2),
        "req_per_s": round(len(latencies) / wall, 1),
        "mean_executed_batch": round(inferences / executions, 2) if executions else float("nan"),
        **{f"latency_{k}": v for k, v in _percentiles(latencies).items() if k != "n"},
    }


def _greedy_head(source: Path, target: Path) -> None:
    """``source`` plus ArgMax / ReduceMax over the class axis: outputs int64 ``ctc_indices`` and
    float32 ``ctc_scores``, both ``[N, T]`` (what greedy CTC decoding needs)."""
    model = onnx.load(str(source))
    probs = model.graph.output[0].name
    model.graph.node.extend([
        helper.make_node("ArgMax", [probs], [GREEDY_OUT[0]], axis=2, keepdims=0),
        helper.make_node("ReduceMax", [probs], [GREEDY_OUT[1]], axes=[2], keepdims=0),
    ])
    del model.graph.output[:]
    model.graph.output.extend([
        helper.make_tensor_value_info(GREEDY_OUT[0], TensorProto.INT64, ["N", "T"]),
        helper.make_tensor_value_info(GREEDY_OUT[1], TensorProto.FLOAT, ["N", "T"]),
    ])
    onnx.save(model, str(target))


def _bench_repository(root: Path) -> Path:
    """Three models from one ONNX: with / without the dynamic batcher, and the greedy head."""
    source = prepare_repository() / ppocr.MODEL_NAME / "1" / "model.onnx"
    repo = root / "repo"
    for spec in (ppocr.PPOCR_REC, replace(ppocr.PPOCR_REC, name=NOBATCH, dynamic_batching=None)):
        write_config(repo, spec)
        (repo / spec.name / "1").mkdir(parents=True)
        (repo / spec.name / "1" / "model.onnx").symlink_to(source)
    greedy = replace(ppocr.PPOCR_REC, name=GREEDY, outputs=(
        TensorSpec(GREEDY_OUT[0], "INT64", (-1,)), TensorSpec(GREEDY_OUT[1], "FP32", (-1,))))
    write_config(repo, greedy)
    (repo / GREEDY / "1").mkdir(parents=True)
    _greedy_head(source, repo / GREEDY / "1" / "model.onnx")
    return repo


def _ort_latency(path: Path, x: Array, threads: int, n: int,
                 batch: int) -> tuple[list[float], list[float]]:
    """In-process ORT: batch-1 call times, and batch-``batch`` call times."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    feeds = {ppocr.INPUT_NAME: x}
    big = {ppocr.INPUT_NAME: np.repeat(x, batch, axis=0)}
    one = _time_calls(lambda: session.run([ppocr.OUTPUT_NAME], feeds), n, 5)
    many = _time_calls(lambda: session.run([ppocr.OUTPUT_NAME], big), max(10, n // 5), 2)
    return one, many


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60, help="sequential calls per latency variant")
    parser.add_argument("--per-thread", type=int, default=15, help="calls per concurrent thread")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    image = cv2.imread(str(CROP), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"cannot read {CROP}")
    x = rec_batch([np.asarray(image, dtype=np.uint8)])
    threads = ppocr.PPOCR_REC.intra_op_threads
    full, greedy = [ppocr.OUTPUT_NAME], list(GREEDY_OUT)

    with tempfile.TemporaryDirectory(prefix="kouan-bench-triton-") as tmp:
        repo = _bench_repository(Path(tmp))
        ort_lat, ort_b8 = _ort_latency(repo / ppocr.MODEL_NAME / "1" / "model.onnx", x, threads,
                                       args.n, args.concurrency)
        server = EmbeddedTriton(repo, Path(tmp) / "work")
        server.start()
        try:
            startup_s = server.startup_s
            results: dict[str, Any] = {}
            for variant, url, model, outs in (
                ("grpc", server.grpc_url, ppocr.MODEL_NAME, full),
                ("http", server.http_url, ppocr.MODEL_NAME, full),
                ("grpc_greedy", server.grpc_url, GREEDY, greedy),
            ):
                with TritonClient(url, timeout_s=60) as client:
                    results[variant] = _time_calls(
                        lambda c=client, m=model, o=outs: c.infer(m, {ppocr.INPUT_NAME: x}, o),
                        args.n, 5)
            with TritonClient(server.grpc_url, timeout_s=60) as client:
                client.infer(NOBATCH, {ppocr.INPUT_NAME: x}, full)  # warm
                runs = {
                    name: _throughput(client, server, model, x, outs, args.concurrency,
                                      args.per_thread)
                    for name, model, outs in (("dynamic_batching", ppocr.MODEL_NAME, full),
                                              ("no_batching", NOBATCH, full),
                                              ("greedy_dynamic_batching", GREEDY, greedy))
                }
            log_text = server.log_path.read_text(errors="replace")
        finally:
            t0 = time.perf_counter()
            server.stop()
            stop_s = time.perf_counter() - t0

    ort_p = _percentiles(ort_lat)
    lat = {k: _percentiles(v) for k, v in results.items()}
    server_version = re.search(r"server_version\s*\|\s*(\S+)", log_text)
    report = {
        "benchmark": "triton_overhead",
        "model": ppocr.MODEL_NAME,
        "input_shape": list(x.shape),
        "reply_bytes_per_image": {"full": 40 * ppocr.NUM_CLASSES * 4, "greedy": 40 * (8 + 4)},
        "intra_op_threads": threads,
        "latency_batch1": {
            "ort_in_process": ort_p,
            **{f"triton_{k}": v for k, v in lat.items()},
            **{f"ratio_{q}_{k}_vs_ort": round(v[f"{q}_ms"] / ort_p[f"{q}_ms"], 2)
               for k, v in lat.items() for q in ("p50", "p99")},
        },
        "throughput_concurrency": {
            "concurrency": args.concurrency,
            **runs,
            "ratio_req_per_s_dynamic_vs_none": round(
                runs["dynamic_batching"]["req_per_s"] / runs["no_batching"]["req_per_s"], 2),
            "ort_in_process_batch8_img_per_s": round(
                args.concurrency / statistics.median(ort_b8), 1),
        },
        "embedded_triton": {
            "startup_s": round(startup_s or float("nan"), 2), "stop_s": round(stop_s, 2),
            "models": [ppocr.MODEL_NAME, NOBATCH, GREEDY],
            "server_version": server_version.group(1) if server_version else None,
        },
        "machine": {
            "cpu_count": os.cpu_count(),
            "loadavg_1m_after": round(os.getloadavg()[0], 2),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "versions": {p: version(p) for p in ("onnxruntime", "tritonclient", "nvidia-pytriton",
                                                 "numpy", "opencv-python-headless")},
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))  # the bench's own output, not logging


if __name__ == "__main__":
    main()
