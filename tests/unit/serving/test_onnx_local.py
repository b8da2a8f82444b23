"""In-process ONNX Runtime client: the gate and the X-ray detector work through it unchanged."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kouan.realdata import realdata_dir
from pipelines.gate.ocr import GateOcr
from pipelines.gate.plates import PlateReader
from pipelines.scan.detector import OnnxDetector
from serving import xray_atr
from serving.bundled import prepare_repository
from serving.client import InferenceClient, InferenceError
from serving.onnx_local import OnnxRuntimeClient


@pytest.fixture(scope="module")
def client() -> OnnxRuntimeClient:
    return OnnxRuntimeClient(prepare_repository(), threads=1)


def test_reads_a_real_plate_through_the_gate_code(client: OnnxRuntimeClient) -> None:
    typed: InferenceClient = client  # satisfies the protocol (checked by mypy)
    path = realdata_dir() / "plates_cn" / "lprnet_crops" / "皖AJW781.jpg"
    image = np.asarray(cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR), np.uint8)
    found = PlateReader(GateOcr.from_repository(typed)).read(image)
    assert found and found[0].text == "皖AJW781"


def test_reads_the_real_consulate_plate(client: OnnxRuntimeClient) -> None:
    """Black plate with a red 领 (``plate_types/shi_lin_guan.jpg``: 沪A·1707领)."""
    path = realdata_dir() / "plates_cn" / "plate_types" / "shi_lin_guan.jpg"
    image = np.asarray(cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR), np.uint8)
    found = PlateReader(GateOcr.from_repository(client)).read(image)
    assert [(f.text, f.reading.plate_type) for f in found[:1]] == [("沪A1707领",
                                                                    "cn_black_consulate")]


def test_same_numbers_as_the_in_process_detector(client: OnnxRuntimeClient) -> None:
    batch = np.random.default_rng(0).integers(0, 256, (2, 3, 256, 256), dtype=np.uint8)
    hm, ltrb = xray_atr.infer(client, batch)
    want_hm, want_ltrb = OnnxDetector(threads=1).score(batch)
    np.testing.assert_allclose(hm, want_hm, atol=1e-5)
    np.testing.assert_allclose(ltrb, want_ltrb, atol=1e-4)


def test_refusals_are_inference_errors(client: OnnxRuntimeClient) -> None:
    assert client.ready("xray_atr") and not client.ready("no_such_model")
    with pytest.raises(InferenceError, match="unknown model"):
        client.infer("no_such_model", {"x": np.zeros(1)}, ["y"])
    with pytest.raises(InferenceError, match="needs Triton"):
        client.model_file("face_detector")  # python backend, not ONNX
    with pytest.raises(InferenceError, match="onnxruntime xray_atr"):
        client.infer("xray_atr", {"wrong_name": np.zeros((1, 3, 256, 256), np.uint8)},
                     ["heatmap"])
    with pytest.raises(ValueError):
        OnnxRuntimeClient(threads=0)
