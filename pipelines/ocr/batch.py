"""Read text-line crops (plates, container codes) in parallel with Ray Data and Triton.

Each Ray actor holds one Triton client and the charset; Ray Data feeds it batches of file paths.
Triton's dynamic batcher merges the actors' concurrent requests, so the model sees large batches
even when every actor sends small ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class OcrResult:
    path: str
    text: str
    confidence: float
    error: str = ""  # non-empty when the file could not be read; nothing is silently dropped


class _OcrActor:
    """Ray Data callable class: ``{"path": [...]} -> {"path", "text", "confidence", "error"}``."""

    def __init__(self, triton_url: str, timeout_s: float, retries: int) -> None:
        from serving import ppocr
        from serving.client import TritonClient

        self._ppocr = ppocr
        self._client = TritonClient(triton_url, timeout_s=timeout_s, retries=retries)
        self._charset = ppocr.load_charset()

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        paths = [str(p) for p in batch["path"]]
        crops: list[npt.NDArray[np.uint8]] = []
        readable: list[int] = []
        errors = [""] * len(paths)
        for i, p in enumerate(paths):
            img = cv2.imdecode(np.fromfile(p, dtype=np.uint8), cv2.IMREAD_COLOR)
            if img is None:
                errors[i] = "not a readable image"
            else:
                crops.append(np.asarray(img, dtype=np.uint8))
                readable.append(i)
        texts, confs = [""] * len(paths), [0.0] * len(paths)
        for i, r in zip(readable, self._ppocr.recognize(self._client, crops, self._charset),
                        strict=True):
            texts[i], confs[i] = r.text, float(r.confidence)
        return {"path": paths, "text": texts, "confidence": confs, "error": errors}


def ocr_files(paths: list[Path], triton_url: str, *, workers: int = 2, batch_size: int = 8,
              timeout_s: float = 10.0, retries: int = 2) -> list[OcrResult]:
    """OCR every file on the current Ray cluster (``ray.init`` must have been called).

    Returns one :class:`OcrResult` per input path, in input order.
    """
    import ray.data

    if workers < 1 or batch_size < 1:
        raise ValueError("workers and batch_size must be >= 1")
    ds = ray.data.from_items([{"path": str(p)} for p in paths])
    out = ds.map_batches(
        _OcrActor,
        fn_constructor_kwargs={"triton_url": triton_url, "timeout_s": timeout_s,
                               "retries": retries},
        compute=ray.data.ActorPoolStrategy(size=workers),
        batch_size=batch_size,
        num_cpus=0.5,
    )
    by_path = {r["path"]: OcrResult(r["path"], r["text"], r["confidence"], r["error"])
               for r in out.iter_rows()}
    return [by_path[str(p)] for p in paths]
