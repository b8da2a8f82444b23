"""Left-right mirror averaging baked into the detector graph (training.xray.tta)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from kouan.cli.train import TtaChoice
from training.xray.from_onnx import detector_from_onnx
from training.xray.model import DetectorSpec, build_detector
from training.xray.tta import TTA_MODES, HFlipAveraged, with_tta

SPEC = DetectorSpec(3, (4, 8, 8, 16, 16), 8)


def _images(n: int, size: int = 64, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=g)


def _mirror(hm: torch.Tensor, ltrb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Outputs as they would be for the left-right mirrored image."""
    return torch.flip(hm, dims=[3]), torch.flip(ltrb[:, [2, 1, 0, 3]], dims=[3])


@pytest.fixture()
def model() -> torch.nn.Module:
    torch.manual_seed(0)
    m = build_detector(SPEC)
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return m.eval()


def test_average_of_the_image_and_its_mirror(model: torch.nn.Module) -> None:
    x = _images(3)
    with torch.no_grad():
        hm, ltrb = HFlipAveraged(model)(x)
        hm1, l1 = model(x)
        hm2, l2 = _mirror(*model(torch.flip(x, dims=[3])))
    torch.testing.assert_close(hm, (hm1 + hm2) / 2)
    torch.testing.assert_close(ltrb, (l1 + l2) / 2)


def test_mirroring_the_input_mirrors_the_output(model: torch.nn.Module) -> None:
    """Equivariance: the averaged model treats a bag and its mirror image alike (a wrong
    channel swap or a flip on the wrong axis breaks this)."""
    x = _images(2, seed=1)
    tta = HFlipAveraged(model)
    with torch.no_grad():
        hm, ltrb = tta(x)
        hm_f, ltrb_f = tta(torch.flip(x, dims=[3]))
    want_hm, want_ltrb = _mirror(hm, ltrb)
    torch.testing.assert_close(hm_f, want_hm, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(ltrb_f, want_ltrb, atol=1e-4, rtol=1e-4)
    # and it is not trivially symmetric: the plain model is not equivariant
    with torch.no_grad():
        _, plain_ltrb_f = model(torch.flip(x, dims=[3]))
        plain_hm, plain_ltrb = model(x)
    assert not torch.allclose(plain_ltrb_f, _mirror(plain_hm, plain_ltrb)[1], atol=1e-2)


def test_exported_graph_matches_torch_and_gives_back_the_plain_detector(
        model: torch.nn.Module, tmp_path: Path) -> None:
    path = tmp_path / "tta.onnx"
    tta = with_tta(model, "hflip")
    torch.onnx.export(tta, (_images(1),), str(path), input_names=["images"],
                      output_names=["heatmap", "ltrb"], opset_version=17, dynamo=False,
                      dynamic_axes={"images": {0: "N"}, "heatmap": {0: "N"}, "ltrb": {0: "N"}})
    probe = _images(3, seed=2)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got_hm, got_ltrb = sess.run(None, {"images": probe.numpy()})
    with torch.no_grad():
        want_hm, want_ltrb = tta(probe)
    np.testing.assert_allclose(got_hm, want_hm.numpy(), atol=1e-5)
    np.testing.assert_allclose(got_ltrb, want_ltrb.numpy(), atol=1e-3)
    # every convolution is in the graph once, so a served TTA version can be trained further
    recovered = detector_from_onnx(path, SPEC, _images(8, seed=3)).eval()
    with torch.no_grad():
        torch.testing.assert_close(recovered(probe)[0], model(probe)[0], atol=1e-4, rtol=1e-3)


def test_modes() -> None:
    assert {c.value for c in TtaChoice} == set(TTA_MODES)
    m = build_detector(SPEC)
    assert with_tta(m, "none") is m
    with pytest.raises(ValueError, match="unknown test-time augmentation"):
        with_tta(m, "vflip")
