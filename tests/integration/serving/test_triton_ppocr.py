"""PP-OCR rec served by a real embedded tritonserver, on real plate crops, over gRPC and HTTP."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort
import pytest

from kouan.cli.main import main
from kouan.config import get_settings
from kouan.realdata import realdata_dir
from serving import ppocr
from serving.client import TritonClient
from serving.embedded import EmbeddedTriton
from vision.ocr_ctc import ctc_greedy_decode
from vision.ocr_rec_preprocess import rec_batch

pytestmark = pytest.mark.integration

PLATES = realdata_dir() / "plates_cn"
# High-confidence crops (one pre-cropped LPRNet sample, one CCPD scene cropped by its label box).
EXACT = [
    "lprnet_crops/皖AS6W73.jpg",
    "ccpd/0200311302682-90_89-282&337_528&424-536&423_287&422_292&333_541&334-0_0_21_16_32_32_31-40-44.jpg",
]
SEPARATORS = re.compile(r"[·•\-\s]")


def _labels() -> dict[str, dict[str, Any]]:
    data = json.loads((PLATES / "labels.json").read_text(encoding="utf-8"))
    return data["files"]  # type: ignore[no-any-return]


def _crop(rel: str, label: dict[str, Any]) -> npt.NDArray[np.uint8]:
    image = cv2.imread(str(PLATES / rel), cv2.IMREAD_COLOR)
    assert image is not None, rel
    if rel.startswith("ccpd/"):
        x1, y1, x2, y2 = (int(v) for v in label["bbox_xyxy"])
        image = image[y1:y2, x1:x2]
    return np.asarray(image, dtype=np.uint8)


def _plain(text: str) -> str:
    return SEPARATORS.sub("", text)


def _edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


@pytest.fixture(scope="module")
def ort_session(triton_server: EmbeddedTriton) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    path = triton_server.repo_dir / ppocr.MODEL_NAME / "1" / "model.onnx"
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def charset() -> tuple[str, ...]:
    return ppocr.load_charset()


@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_rec_matches_in_process_onnxruntime_and_reads_the_plate(
    protocol: str, triton_grpc: TritonClient, triton_http: TritonClient,
    ort_session: ort.InferenceSession, charset: tuple[str, ...],
) -> None:
    client = triton_grpc if protocol == "grpc" else triton_http
    labels = _labels()
    batch = rec_batch([_crop(rel, labels[rel]) for rel in EXACT])
    served = client.infer(ppocr.MODEL_NAME, {ppocr.INPUT_NAME: batch}, [ppocr.OUTPUT_NAME])
    probs = served[ppocr.OUTPUT_NAME]
    local = ort_session.run([ppocr.OUTPUT_NAME], {ppocr.INPUT_NAME: batch})[0]
    assert probs.shape == local.shape == (len(EXACT), 40, ppocr.NUM_CLASSES)
    assert probs.dtype == np.float32
    assert float(np.abs(probs - local).max()) < 1e-4
    texts = ctc_greedy_decode(probs, charset)
    for rel, got in zip(EXACT, texts, strict=True):
        assert _plain(got.text) == labels[rel]["plate_text"], (rel, got)
        assert got.confidence > 0.9


@pytest.mark.slow
def test_all_real_plate_crops_read_sensibly(
    triton_grpc: TritonClient, charset: tuple[str, ...]
) -> None:
    labels = _labels()
    rels = sorted(r for r, v in labels.items()
                  if r.startswith(("lprnet_crops/", "ccpd/")) and v.get("plate_text"))
    results = ppocr.recognize(triton_grpc, [_crop(r, labels[r]) for r in rels], charset)
    truths = [str(labels[r]["plate_text"]) for r in rels]
    pairs = list(zip(results, truths, strict=True))
    errors = sum(_edit_distance(_plain(res.text), t) for res, t in pairs)
    char_accuracy = 1 - errors / sum(len(t) for t in truths)
    # Measured 0.93 (26 of 43 exact): the model often drops the province character. A broken
    # preprocessing, charset offset or tensor mix-up gives well below 0.5.
    assert char_accuracy > 0.85, [(r.text, t) for r, t in pairs]


def _metric(metrics_url: str, name: str, model: str) -> float:
    with urllib.request.urlopen(metrics_url, timeout=5) as resp:
        text = resp.read().decode()
    pattern = re.compile(rf'^{name}{{model="{model}",version="1"}} (\S+)$', re.MULTILINE)
    found = pattern.search(text)
    assert found, f"{name} for {model} not in metrics"
    return float(found.group(1))


@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_dynamic_batching_merges_concurrent_requests(
    protocol: str, triton_server: EmbeddedTriton, triton_grpc: TritonClient,
    triton_http: TritonClient, ort_session: ort.InferenceSession,
) -> None:
    client = triton_grpc if protocol == "grpc" else triton_http  # one client shared by 8 threads
    rng = np.random.default_rng(0)
    inputs = [rng.uniform(-1, 1, (1, 3, 48, 320)).astype(np.float32) for _ in range(16)]
    name = ppocr.MODEL_NAME
    count0 = _metric(triton_server.metrics_url, "nv_inference_count", name)
    exec0 = _metric(triton_server.metrics_url, "nv_inference_exec_count", name)

    def call(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        return client.infer(name, {ppocr.INPUT_NAME: x}, [ppocr.OUTPUT_NAME])[ppocr.OUTPUT_NAME]

    with ThreadPoolExecutor(max_workers=8) as pool:
        outputs = list(pool.map(call, inputs))
    # Triton publishes its counters shortly after the replies; poll until they settle.
    deadline = time.monotonic() + 10.0
    while True:
        inferences = _metric(triton_server.metrics_url, "nv_inference_count", name) - count0
        executions = _metric(triton_server.metrics_url, "nv_inference_exec_count", name) - exec0
        if inferences >= 16 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert inferences == 16
    assert executions < inferences, "no two requests were executed as one batch"
    # Each caller got the rows of its own input back (the runner splits merged batches).
    for x, y in zip(inputs, outputs, strict=True):
        expected = ort_session.run([ppocr.OUTPUT_NAME], {ppocr.INPUT_NAME: x})[0]
        assert float(np.abs(y - expected).max()) < 1e-4


def test_cli_ocr_through_an_external_triton_url(
    triton_server: EmbeddedTriton, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # KOUAN_TRITON_URL set: the CLI must use that server (here the session's, over HTTP) and not
    # start one of its own.
    monkeypatch.setenv("KOUAN_TRITON_URL", triton_server.http_url)
    assert main(["models", "ocr", str(PLATES / EXACT[0])]) == 0
    path, text, confidence = capsys.readouterr().out.strip().split("\t")
    assert path.endswith("皖AS6W73.jpg") and _plain(text) == "皖AS6W73" and float(confidence) > 0.9
    assert not (get_settings().data_dir / "triton").exists()
