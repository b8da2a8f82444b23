"""The X-ray threat detector behind a narrow seam: Triton (the serving path) or an in-process
ONNX Runtime session (notebooks, benchmarks); both read the model card for classes, input
size and operating thresholds.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from serving import xray_atr
from serving.client import InferenceClient
from serving.repository import default_repository
from vision.atr.decode import class_scores, decode
from vision.atr.letterbox import letterbox, to_chw
from vision.atr.types import Detections

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
NON_THREAT = frozenset({"laptop"})


class Detector(Protocol):
    """uint8 batch ``[N, 3, S, S]`` -> (heatmap ``[N, C, h, w]``, ltrb ``[N, 4, h, w]``)."""

    card: xray_atr.AtrCard

    def score(self, batch: U8) -> tuple[F32, F32]: ...

    @property
    def model_ref(self) -> tuple[str, str]: ...


class TritonDetector:
    def __init__(self, client: InferenceClient, card: xray_atr.AtrCard | None = None) -> None:
        self.client = client
        self.card = card or xray_atr.load_card()

    def score(self, batch: U8) -> tuple[F32, F32]:
        return xray_atr.infer(self.client, batch, self.card.name)

    @property
    def model_ref(self) -> tuple[str, str]:
        return self.card.name, str(self.card.version)


class OnnxDetector:
    """The same model file Triton serves, run in-process with ONNX Runtime."""

    def __init__(self, repo: Path | None = None, threads: int = 2) -> None:
        import onnxruntime as ort

        self.card = xray_atr.load_card(repo)
        path = (repo or default_repository()) / self.card.name / str(self.card.version) / \
            "model.onnx"
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        self._sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def score(self, batch: U8) -> tuple[F32, F32]:
        hm, ltrb = self._sess.run(list(xray_atr.OUTPUTS), {xray_atr.INPUT: batch})
        return np.asarray(hm, np.float32), np.asarray(ltrb, np.float32)

    @property
    def model_ref(self) -> tuple[str, str]:
        return self.card.name, str(self.card.version)


def detect(detector: Detector, images: Sequence[U8]) -> list[tuple[Detections, F32]]:
    """Boxes (source pixels, score >= 0.05) and per-class image scores for RGB images."""
    if not images:
        return []
    size = detector.card.size
    boxes = [letterbox(img, size) for img in images]
    batch = np.stack([to_chw(c) for c, _ in boxes])
    hm, ltrb = detector.score(batch)
    out = []
    for k, (_, lb) in enumerate(boxes):
        d = decode(hm[k], ltrb[k], xray_atr.STRIDE, score_threshold=0.05)
        src = lb.to_source(d.boxes)
        ok = (src[:, 2] > src[:, 0]) & (src[:, 3] > src[:, 1])
        out.append((Detections(src[ok], d.scores[ok], d.class_ids[ok]), class_scores(hm[k])))
    return out


def threat_score(card: xray_atr.AtrCard, scores: F32) -> float:
    """Image-level threat score: the highest heat-map peak over the threat classes."""
    idx = [i for i, c in enumerate(card.classes) if c not in NON_THREAT]
    return float(np.max(scores[idx])) if idx else 0.0
