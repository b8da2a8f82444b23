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

from pathlib import Path

from serving.model_config import DynamicBatching, ModelSpec, TensorSpec
from serving.ppocr import rapidocr_source
from serving.repository import copy_verified, default_repository
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
