"""The three OCR models of the gate behind one :class:`InferenceClient` (Triton, embedded or
remote): PP-OCR text detection, PP-OCR text recognition and the Mongolian plate CRNN.

Pre-/post-processing are the pure functions of :mod:`vision`; this module only batches crops,
calls the server and returns arrays. Recognition returns the per-step class probabilities
(``[T, C]`` per crop) because grammar-aware decoding needs more than the greedy string.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from serving import gate_models, ppocr
from serving.client import InferenceClient
from vision.ocr_det import DetInput, TextBox, db_postprocess, det_preprocess
from vision.ocr_rec_preprocess import REC_HEIGHT, rec_batch
from vision.plates.ctc_constrained import CharsetIndex
from vision.plates.mn_rec import MN_CHARSET, MN_TTA_SHIFTS, mn_batch, mn_merge_shifts, mn_shifted

Image = npt.NDArray[np.uint8]
Probs = npt.NDArray[np.float32]
REC_WIDTHS = (160, 320, 640)  # width buckets: few distinct shapes so Triton can batch


def _bucket(width: float) -> int:
    for w in REC_WIDTHS:
        if width <= w:
            return w
    return REC_WIDTHS[-1]


@dataclass(frozen=True)
class DetMap:
    """One detector call: ``boxes`` in the image's pixel frame; ``prob`` the float32 ``[H', W']``
    text probability map at the detector's input size (``det_in.scale_x/scale_y`` map its
    pixels back to image pixels)."""

    boxes: list[TextBox]
    prob: npt.NDArray[np.float32]
    det_in: DetInput


@dataclass
class GateOcr:
    """OCR calls for the gate. ``rec_charset``: the class of each column of ``rec_model``'s
    output (blank first): the 18710 ``ppocr_rec`` classes, or the few ``ppocr_rec_gate``
    keeps (what :meth:`from_repository` uses)."""

    client: InferenceClient
    rec_charset: tuple[str, ...]
    det_model: str = gate_models.DET_MODEL
    rec_model: str = ppocr.MODEL_NAME
    rec_output: str = ppocr.OUTPUT_NAME
    mn_model: str = gate_models.MN_MODEL
    det_max_side: int = 960
    rec_index: CharsetIndex = field(init=False)
    mn_index: CharsetIndex = field(init=False)

    def __post_init__(self) -> None:
        self.rec_index = CharsetIndex(self.rec_charset)
        self.mn_index = CharsetIndex(MN_CHARSET)

    @classmethod
    def from_repository(cls, client: InferenceClient, repo: Path | None = None,
                        **kwargs: Any) -> GateOcr:
        """Read with ``ppocr_rec_gate`` (the plate and container columns of ``ppocr_rec``);
        its charset is derived from the committed ``ppocr_rec`` one."""
        charset = gate_models.gate_rec_charset(ppocr.load_charset(repo))
        return cls(client=client, rec_charset=charset, rec_model=gate_models.REC_GATE_MODEL,
                   rec_output=gate_models.REC_GATE_OUTPUT, **kwargs)

    def detect(self, image: Image, max_side: int | None = None) -> list[TextBox]:
        """Text boxes in ``image`` (uint8 BGR/grey), in its pixel frame."""
        return self.detect_map(image, max_side).boxes

    def detect_map(self, image: Image, max_side: int | None = None) -> DetMap:
        """Text boxes and the detector's probability map (see :class:`DetMap`)."""
        det_in = det_preprocess(image, max_side=max_side or self.det_max_side)
        out = self.client.infer(self.det_model, {gate_models.DET_INPUT: det_in.tensor},
                                [gate_models.DET_OUTPUT])[gate_models.DET_OUTPUT]
        prob = np.asarray(out, dtype=np.float32).reshape(out.shape[-2:])
        return DetMap(boxes=db_postprocess(prob, det_in), prob=prob, det_in=det_in)

    def recognize(self, crops: Sequence[Image]) -> list[Probs]:
        """Per-crop ``[T, len(rec_charset)]`` probabilities; each crop one text line (uint8
        BGR/grey).

        Crops are grouped by width bucket (at ``REC_HEIGHT``) so each request has one shape;
        the steps that fall on the right-hand padding are dropped.
        """
        out: list[Probs | None] = [None] * len(crops)
        groups: dict[int, list[int]] = {}
        for i, c in enumerate(crops):
            if c.size == 0:
                raise ValueError(f"crop {i} is empty")
            groups.setdefault(_bucket(REC_HEIGHT * c.shape[1] / c.shape[0]), []).append(i)
        step = ppocr.PPOCR_REC.max_batch_size
        for width, idx in sorted(groups.items()):
            for start in range(0, len(idx), step):
                chunk = idx[start:start + step]
                batch = rec_batch([crops[i] for i in chunk], width=width)
                probs = self.client.infer(self.rec_model, {ppocr.INPUT_NAME: batch},
                                          [self.rec_output])[self.rec_output]
                steps = probs.shape[1]
                for j, i in enumerate(chunk):
                    h, w = crops[i].shape[:2]
                    used = min(width, int(np.ceil(REC_HEIGHT * w / h)))
                    keep = min(steps, max(1, int(np.ceil(used * steps / width)) + 1))
                    out[i] = np.asarray(probs[j, :keep], dtype=np.float32)
        return [p for p in out if p is not None]

    def recognize_mn(self, lines: Sequence[Image]) -> list[Probs]:
        """Per-crop ``[32, len(MN_CHARSET)]`` probabilities of the Mongolian plate CRNN, each
        the mean over the line's test-time shifts (:data:`MN_TTA_SHIFTS`)."""
        if not lines:
            return []
        res: list[Probs] = []
        per_request = max(1, gate_models.PLATE_REC_MN.max_batch_size // len(MN_TTA_SHIFTS))
        for start in range(0, len(lines), per_request):
            batch = mn_shifted(mn_batch(lines[start:start + per_request]))
            probs = self.client.infer(self.mn_model, {gate_models.MN_INPUT: batch},
                                      [gate_models.MN_OUTPUT])[gate_models.MN_OUTPUT]
            res.extend(mn_merge_shifts(np.asarray(probs)))
        return res
