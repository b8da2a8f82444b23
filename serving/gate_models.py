"""Models the smart gate serves besides ``ppocr_rec``: PP-OCR text detection and the Mongolian
plate recogniser.

- ``ppocr_det``: PP-OCRv6 det small. Version 1 is the float model from the ``rapidocr`` 3.10
  wheel (not committed, copied and SHA-256-checked by :func:`install_ppocr_det`, like
  ``ppocr_rec``); version 2, the one served, is its committed INT8 copy
  (:mod:`training.ocr_det_int8`, ~2.5x faster on CPU). Input ``x`` float32
  ``[N, 3, H, W]`` (BGR, ``(v/255 - 0.5) / 0.5``, ``H``/``W`` multiples of 32, see
  :mod:`vision.ocr_det`), output ``fetch_name_0`` float32 ``[N, 1, H, W]`` text probability.
- ``plate_rec_mn``: small CRNN trained here on synthetic Mongolian plates (committed ONNX, see
  its MODEL_CARD.md). Input ``x`` float32 ``[N, 1, 32, 128]`` grey in [-1, 1], output
  ``probs`` float32 ``[N, 32, C]`` softmax over :data:`vision.plates.mn_rec.MN_CHARSET`.
"""

from __future__ import annotations

import os
import string
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from serving import ppocr
from serving.model_config import DynamicBatching, ModelSpec, TensorSpec
from serving.ppocr import rapidocr_source
from serving.repository import copy_verified, default_repository, write_config
from vision.ocr_rec_preprocess import REC_HEIGHT
from vision.plates.ctc_constrained import IGNORABLE
from vision.plates.grammar import CN_TEMPLATES
from vision.plates.mn_rec import MN_CHARSET, MN_INPUT_HEIGHT, MN_INPUT_WIDTH, MN_STEPS

DET_MODEL = "ppocr_det"
DET_INPUT, DET_OUTPUT = "x", "fetch_name_0"
DET_FILE = "PP-OCRv6_det_small.onnx"
DET_SHA256 = "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f"

PPOCR_DET = ModelSpec(
    name=DET_MODEL,
    inputs=(TensorSpec(DET_INPUT, "FP32", (3, -1, -1)),),
    outputs=(TensorSpec(DET_OUTPUT, "FP32", (1, -1, -1)),),
    max_batch_size=4,
    dynamic_batching=None,  # gate images differ in size; requests would not merge anyway
    instance_count=1,
    intra_op_threads=2,
)

MN_MODEL = "plate_rec_mn"
MN_INPUT, MN_OUTPUT = "x", "probs"

PLATE_REC_MN = ModelSpec(
    name=MN_MODEL,
    inputs=(TensorSpec(MN_INPUT, "FP32", (1, MN_INPUT_HEIGHT, MN_INPUT_WIDTH)),),
    outputs=(TensorSpec(MN_OUTPUT, "FP32", (MN_STEPS, len(MN_CHARSET))),),
    max_batch_size=16,
    dynamic_batching=DynamicBatching(max_queue_delay_us=1000),
    instance_count=1,
    intra_op_threads=1,
)


def install_ppocr_det(repo: Path | None = None, source: Path | None = None) -> Path:
    """Copy the det ONNX from the rapidocr wheel into ``<repo>/ppocr_det/1/model.onnx``
    (no-op when already there with the pinned digest)."""
    src = source or rapidocr_source().with_name(DET_FILE)
    target = (repo or default_repository()) / DET_MODEL / "1" / "model.onnx"
    return copy_verified(src, target, DET_SHA256)


# ppocr_rec_gate: ppocr_rec with a smaller output. The full [N, T, 18710] softmax is 3 MB per
# 320-px line, and moving it through gRPC and the python backend costs more than the model
# itself (~27 ms per call via Triton vs ~11 ms in-process on 2 cores). The gate's decoders
# only ever look at the plate and container characters, the blank, separators and the best
# unconstrained class, so the server keeps exactly those columns.
REC_GATE_MODEL = "ppocr_rec_gate"
REC_GATE_OUTPUT = "probs"
OTHER = "\ufffd"  # the last column: max probability over every class not kept


def gate_models_needed(plates: bool = True) -> list[str]:
    """Triton models a gate reader uses (the Mongolian CRNN only when reading plates)."""
    return [REC_GATE_MODEL, DET_MODEL, *([MN_MODEL] if plates else [])]


def gate_rec_classes(full_charset: Sequence[str]) -> list[int]:
    """Indices into the ``ppocr_rec`` classes (blank 0 first) that ``ppocr_rec_gate`` keeps:
    every character a Chinese plate grammar allows, Latin capitals (I and O included: they are
    read and repaired), digits and separators."""
    wanted = set(IGNORABLE) | set(string.ascii_uppercase) | set(string.digits)
    for tpl in CN_TEMPLATES:
        wanted |= tpl.charset
    keep = [0] + [i for i, ch in enumerate(full_charset) if i and ch in wanted]
    # separators are optional (the charset lacks some); every plate/code character is not
    missing = wanted - {full_charset[i] for i in keep[1:]} - set(IGNORABLE)
    if missing:
        raise ValueError(f"ppocr_rec has no class for {sorted(missing)}")
    return keep


def gate_rec_charset(full_charset: Sequence[str]) -> tuple[str, ...]:
    """Class strings of ``ppocr_rec_gate``'s output columns (blank first, :data:`OTHER` last)."""
    return (*(full_charset[i] for i in gate_rec_classes(full_charset)), OTHER)


def rec_gate_spec(n_columns: int) -> ModelSpec:
    return ModelSpec(
        name=REC_GATE_MODEL,
        inputs=(TensorSpec(ppocr.INPUT_NAME, "FP32", (3, REC_HEIGHT, -1)),),
        outputs=(TensorSpec(REC_GATE_OUTPUT, "FP32", (-1, n_columns)),),
        max_batch_size=ppocr.PPOCR_REC.max_batch_size,
        dynamic_batching=ppocr.PPOCR_REC.dynamic_batching,
        instance_count=1,
        intra_op_threads=2,
    )


def build_rec_gate(source: Path, keep: Sequence[int], target: Path) -> Path:
    """Write ``ppocr_rec`` (``source``) with its softmax output reduced to the ``keep`` columns
    plus one :data:`OTHER` column (``ReduceMax`` of the masked rest), as ``target``."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    full = graph.output[0]
    n_classes = full.type.tensor_type.shape.dim[2].dim_value or ppocr.NUM_CLASSES
    mask = np.ones(n_classes, np.float32)
    mask[list(keep)] = 0.0
    graph.initializer.extend([
        numpy_helper.from_array(np.asarray(keep, np.int64), "gate_keep"),
        numpy_helper.from_array(mask, "gate_rest_mask")])
    graph.node.extend([
        helper.make_node("Gather", [full.name, "gate_keep"], ["gate_kept"], axis=2),
        helper.make_node("Mul", [full.name, "gate_rest_mask"], ["gate_rest"]),
        helper.make_node("ReduceMax", ["gate_rest"], ["gate_other"], axes=[2], keepdims=1),
        helper.make_node("Concat", ["gate_kept", "gate_other"], [REC_GATE_OUTPUT], axis=2)])
    graph.output.remove(full)
    graph.output.append(helper.make_tensor_value_info(
        REC_GATE_OUTPUT, TensorProto.FLOAT, ["N", "T", len(keep) + 1]))
    onnx.checker.check_model(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".model.", suffix=".onnx")
    os.close(fd)
    onnx.save(model, tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)
    return target


def install_ppocr_rec_gate(repo: Path | None = None) -> Path:
    """Derive ``<repo>/ppocr_rec_gate/1/model.onnx`` from the installed ``ppocr_rec`` (no-op
    when present, newer than its source and built for the current grammar's characters) and
    render its ``config.pbtxt``."""
    repo = repo or default_repository()
    source = ppocr.install_ppocr_rec(repo)
    keep = gate_rec_classes(ppocr.load_charset(repo))
    target = repo / REC_GATE_MODEL / "1" / "model.onnx"
    write_config(repo, rec_gate_spec(len(keep) + 1))
    if (target.is_file() and target.stat().st_mtime >= source.stat().st_mtime
            and _output_columns(target) == len(keep) + 1):
        return target
    return build_rec_gate(source, keep, target)


def _output_columns(model_file: Path) -> int | None:
    """Size of the last output dimension of an ONNX file (``None`` when symbolic): a derived
    ``ppocr_rec_gate`` built for another plate grammar has a different number of columns."""
    import onnx

    dims = onnx.load(str(model_file), load_external_data=False).graph.output[0].type \
        .tensor_type.shape.dim
    return int(dims[-1].dim_value) if dims and dims[-1].HasField("dim_value") else None
