"""Run a detector (torch module or ONNX file) over images: letterbox -> model -> decode.

A *scorer* maps a uint8 batch ``[N, 3, S, S]`` to ``(heatmap [N, C, S/4, S/4],
ltrb [N, 4, S/4, S/4])`` numpy float32; torch and ONNX Runtime scorers behave the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch

from training.xray.model import STRIDE
from vision.atr.decode import class_scores, decode
from vision.atr.letterbox import letterbox, to_chw
from vision.atr.types import Detections

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
Scorer = Callable[[U8], tuple[F32, F32]]


@dataclass(frozen=True)
class Prediction:
    """Detections in source-image pixels and the image-level score per class."""

    detections: Detections
    class_scores: F32


def torch_scorer(model: torch.nn.Module) -> Scorer:
    def score(batch: U8) -> tuple[F32, F32]:
        was_training = model.training
        model.eval()
        with torch.no_grad():
            hm, ltrb = model(torch.from_numpy(batch))
        model.train(was_training)
        return hm.numpy().astype(np.float32), ltrb.numpy().astype(np.float32)
    return score


def onnx_scorer(path: Path, threads: int = 2) -> Scorer:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def score(batch: U8) -> tuple[F32, F32]:
        hm, ltrb = sess.run(["heatmap", "ltrb"], {"images": batch})
        return np.asarray(hm, dtype=np.float32), np.asarray(ltrb, dtype=np.float32)
    return score


def predict_images(scorer: Scorer, images: Iterable[U8], size: int, batch_size: int = 8,
                   score_threshold: float = 0.05) -> list[Prediction]:
    """Predictions for RGB uint8 images of any size, in input order."""
    out: list[Prediction] = []
    pending: list[tuple[U8, object]] = []

    def flush() -> None:
        if not pending:
            return
        batch = np.stack([c for c, _ in pending])
        hm, ltrb = scorer(batch)
        for k, (_, lb) in enumerate(pending):
            det = decode(hm[k], ltrb[k], STRIDE, score_threshold)
            boxes = lb.to_source(det.boxes)  # type: ignore[attr-defined]
            ok = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
            out.append(Prediction(Detections(boxes[ok], det.scores[ok], det.class_ids[ok]),
                                  class_scores(hm[k])))
        pending.clear()

    for img in images:
        canvas, lb = letterbox(img, size)
        pending.append((to_chw(canvas), lb))
        if len(pending) >= batch_size:
            flush()
    flush()
    return out
