"""Recover a trainable :class:`TTFNetLite` from an exported ONNX model version.

Only the ONNX file and its card are committed (``serving/model_repository/xray_atr/<v>/``); the
run folder with ``best.pt`` lives on whichever machine trained it. To fine-tune or continue a
served version anyway, ``kouan train xray --init-from .../model.onnx`` rebuilds the weights here.

The exporter folds every BatchNorm into the convolution before it (``W' = W * g / s``,
``b' = beta + (b - mean) * g / s``), so the ONNX graph holds one ``(W', b')`` per conv. They are
put back as conv weight ``W'`` and a BatchNorm that adds ``b'`` and otherwise does nothing:
``running_mean = m``, ``running_var = v``, ``weight = sqrt(v + eps)``, ``bias = m + b'``, where
``m, v`` are the per-channel mean and variance of the conv output on a calibration batch. In eval
mode that is exactly ``x + b'`` for any ``m, v``; choosing them from real activations makes the
train-mode BatchNorm (batch statistics) close to the identity too, so fine-tuning starts from
the exported function instead of a re-normalised one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
import torch
from onnx import numpy_helper
from torch import Tensor, nn

from training.xray.model import DetectorSpec, TTFNetLite, build_detector

F32 = npt.NDArray[np.float32]


class OnnxInitError(ValueError):
    """The ONNX file does not hold this detector architecture."""


def onnx_classes(path: Path) -> list[str] | None:
    """Class names from the ``card.json`` beside an exported ``model.onnx`` (None: no card)."""
    card = path.parent / "card.json"
    if not card.is_file():
        return None
    return [str(c) for c in json.loads(card.read_text())["classes"]]


def _onnx_convs(path: Path) -> list[tuple[F32, F32 | None]]:
    """``(weight, bias)`` of every Conv node in graph (= traced execution) order."""
    graph = onnx.load(str(path)).graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    for node in graph.node:  # constant-folded weights may also live in Constant nodes
        if node.op_type == "Constant":
            inits[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    convs = []
    for node in graph.node:
        if node.op_type != "Conv":
            continue
        if node.input[1] not in inits:
            raise OnnxInitError(f"{path}: conv weight {node.input[1]!r} is not a constant")
        bias = inits.get(node.input[2]) if len(node.input) > 2 else None
        convs.append((inits[node.input[1]], bias))
    return convs


def _run_hooked(model: nn.Module, modules: list[nn.Module],
                hook: Callable[[nn.Module, Tensor], None], images: Tensor) -> None:
    """Run ``model(images)`` (no grad) calling ``hook(module, output)`` after each of
    ``modules``."""
    handles = [m.register_forward_hook(lambda mod, _inp, out: hook(mod, out)) for m in modules]
    try:
        with torch.no_grad():
            model(images)
    finally:
        for h in handles:
            h.remove()


def _convs_in_call_order(model: nn.Module, probe: Tensor) -> list[nn.Conv2d]:
    """The model's Conv2d modules in the order ``forward`` calls them on ``probe``."""
    order: list[nn.Module] = []
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    _run_hooked(model, list(convs), lambda mod, _out: order.append(mod), probe)
    return [m for m in order if isinstance(m, nn.Conv2d)]


def _batchnorm_after(model: nn.Module) -> dict[nn.Conv2d, nn.BatchNorm2d]:
    """Conv -> the BatchNorm that follows it inside a ``Conv2dNormActivation`` block."""
    pairs: dict[nn.Conv2d, nn.BatchNorm2d] = {}
    for block in model.modules():
        kids = list(block.children())
        for a, b in zip(kids, kids[1:], strict=False):
            if isinstance(a, nn.Conv2d) and isinstance(b, nn.BatchNorm2d):
                pairs[a] = b
    return pairs


def detector_from_onnx(path: Path, spec: DetectorSpec, calibration: Tensor) -> TTFNetLite:
    """A detector whose eval-mode output equals the ONNX model's, BatchNorms re-opened.

    ``calibration``: uint8 ``[N, 3, S, S]`` training images (N >= 2) for the BatchNorm
    statistics. Raises :class:`OnnxInitError` when the conv layers do not line up with ``spec``.
    """
    model = build_detector(spec).eval()
    convs = _convs_in_call_order(model, calibration[:1])
    stored = _onnx_convs(path)
    if len(stored) != len(convs):
        raise OnnxInitError(f"{path} has {len(stored)} convolutions, {spec} has {len(convs)}")
    norms = _batchnorm_after(model)
    folded: dict[nn.Module, Tensor] = {}  # conv -> its folded bias b'
    with torch.no_grad():
        for i, (conv, (w, b)) in enumerate(zip(convs, stored, strict=True)):
            if tuple(w.shape) != tuple(conv.weight.shape):
                raise OnnxInitError(f"{path}: conv {i} has shape {w.shape}, "
                                    f"{spec} expects {tuple(conv.weight.shape)}")
            conv.weight.copy_(torch.from_numpy(w.copy()))
            bias = torch.from_numpy(b.copy()) if b is not None else torch.zeros(w.shape[0])
            bn = norms.get(conv)
            if bn is None:
                if conv.bias is not None:
                    conv.bias.copy_(bias)
                elif b is not None and bool(np.any(b)):
                    raise OnnxInitError(f"{path}: conv {i} has a bias the model cannot hold")
                continue
            # placeholder statistics (exact in eval mode), replaced after calibration below
            c = w.shape[0]
            _pass_through(bn, torch.zeros(c), torch.ones(c), bias)
            folded[conv] = bias
        stats = _conv_output_stats(model, list(norms), calibration)
        for conv, bn in norms.items():
            _pass_through(bn, *stats[conv], folded[conv])
    return model


def _pass_through(bn: nn.BatchNorm2d, mean: Tensor, var: Tensor, bias: Tensor) -> None:
    """Make ``bn`` compute ``x + bias`` in eval mode, with running statistics ``mean, var``."""
    if bn.running_mean is None or bn.running_var is None:
        raise OnnxInitError("BatchNorm without running statistics cannot be rebuilt")
    bn.running_mean.copy_(mean)
    bn.running_var.copy_(var)
    bn.weight.copy_(torch.sqrt(var + bn.eps))
    bn.bias.copy_(mean + bias)


def _conv_output_stats(model: nn.Module, convs: list[nn.Conv2d],
                       images: Tensor) -> dict[nn.Module, tuple[Tensor, Tensor]]:
    """Per-channel (mean, biased variance) of each conv's output over ``images``."""
    stats: dict[nn.Module, tuple[Tensor, Tensor]] = {}

    def record(mod: nn.Module, out: Tensor) -> None:
        stats[mod] = (out.mean(dim=(0, 2, 3)), out.var(dim=(0, 2, 3), unbiased=False))

    _run_hooked(model, list(convs), record, images)
    return stats
