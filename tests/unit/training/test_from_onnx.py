"""Recovering a trainable detector from an exported ONNX version (training.xray.from_onnx)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
import pytest
import torch

from training.xray.from_onnx import OnnxInitError, detector_from_onnx, onnx_classes
from training.xray.model import DetectorSpec, build_detector

REPO = Path(__file__).resolve().parents[3]
SERVED = REPO / "serving/model_repository/xray_atr/2/model.onnx"


def _images(n: int, size: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=g)


def _export(model: torch.nn.Module, size: int, path: Path) -> None:
    torch.onnx.export(model.eval(), (_images(1, size),), str(path), input_names=["images"],
                      output_names=["heatmap", "ltrb"], opset_version=17, dynamo=False,
                      dynamic_axes={"images": {0: "N"}})


def _onnx_run(path: Path, images: torch.Tensor) -> list[npt.NDArray[np.float32]]:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return [np.asarray(o) for o in sess.run(None, {"images": images.numpy()})]


@pytest.fixture()
def exported(tmp_path: Path) -> tuple[DetectorSpec, Path]:
    """A small detector with non-trivial BatchNorm statistics, exported (BN folded)."""
    spec = DetectorSpec(3, (4, 8, 8, 16, 16), 8)
    torch.manual_seed(0)
    model = build_detector(spec).train()
    with torch.no_grad():
        for _ in range(3):  # move running statistics away from (0, 1)
            model(_images(4, 64, seed=1))
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    path = tmp_path / "model.onnx"
    _export(model, 64, path)
    return spec, path


def test_recovered_detector_reproduces_the_onnx_outputs(exported: tuple[DetectorSpec, Path]
                                                        ) -> None:
    spec, path = exported
    model = detector_from_onnx(path, spec, _images(8, 64, seed=2)).eval()
    probe = _images(2, 64, seed=3)
    with torch.no_grad():
        got = [t.numpy() for t in model(probe)]
    for g, want in zip(got, _onnx_run(path, probe), strict=True):
        np.testing.assert_allclose(g, want, atol=1e-4, rtol=1e-3)


def test_train_mode_batchnorm_starts_close_to_identity(exported: tuple[DetectorSpec, Path]
                                                       ) -> None:
    """On the calibration batch, batch statistics are the stored ones: train == eval."""
    spec, path = exported
    calib = _images(8, 64, seed=2)
    model = detector_from_onnx(path, spec, calib)
    with torch.no_grad():
        heat_eval, _ = model.eval()(calib)
        heat_train, _ = model.train()(calib)
    np.testing.assert_allclose(heat_train.numpy(), heat_eval.numpy(), atol=1e-3)


def test_wrong_architecture_is_refused(exported: tuple[DetectorSpec, Path]) -> None:
    _, path = exported
    with pytest.raises(OnnxInitError, match="shape"):
        detector_from_onnx(path, DetectorSpec(3, (4, 8, 8, 16, 32), 8), _images(2, 64))


def test_served_version_round_trips() -> None:
    """The committed xray_atr v2 comes back with its card's classes and its outputs."""
    assert onnx_classes(SERVED) == ["handgun", "gun_part", "knife", "ied", "liquid", "laptop"]
    spec = DetectorSpec(6, (8, 16, 32, 96, 160), 32)
    model = detector_from_onnx(SERVED, spec, _images(4, 256, seed=4)).eval()
    probe = _images(1, 256, seed=5)
    with torch.no_grad():
        heat, ltrb = model(probe)
    want_heat, want_ltrb = _onnx_run(SERVED, probe)
    np.testing.assert_allclose(heat.numpy(), want_heat, atol=1e-4)
    np.testing.assert_allclose(ltrb.numpy(), want_ltrb, atol=1e-2)
