"""Decode the detector's dense outputs into boxes (TTFNet / CenterNet-style head).

Model outputs for one image (stride ``s`` = input size / heat-map size, 4 for our models):

* ``heatmap``: float32 ``[C, h, w]``, sigmoid class probabilities; an object is a local peak;
* ``ltrb``: float32 ``[4, h, w]``, distances in model-input pixels from the cell centre
  ``((j + 0.5) * s, (i + 0.5) * s)`` to the box's left, top, right and bottom edges.

Peaks are cells equal to the 3 x 3 maximum of their class map and above ``score_threshold``;
the best ``max_detections`` are kept, then class-wise NMS removes the rare duplicate peaks.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from vision.atr.boxes import nms
from vision.atr.types import Detections

F32 = npt.NDArray[np.float32]


def _check(heatmap: F32, ltrb: F32) -> None:
    if heatmap.ndim != 3 or ltrb.ndim != 3 or ltrb.shape[0] != 4:
        raise ValueError(f"expected heatmap [C, h, w] and ltrb [4, h, w], got {heatmap.shape} "
                         f"and {ltrb.shape}")
    if heatmap.shape[1:] != ltrb.shape[1:]:
        raise ValueError(f"heatmap {heatmap.shape} and ltrb {ltrb.shape} grids differ")


def peak_mask(heatmap: F32) -> npt.NDArray[np.bool_]:
    """Cells that equal the 3 x 3 maximum of their class map, ``[C, h, w]`` bool."""
    kernel = np.ones((3, 3), np.uint8)
    out = np.empty(heatmap.shape, dtype=bool)
    for c in range(heatmap.shape[0]):
        hm = np.ascontiguousarray(heatmap[c], dtype=np.float32)
        out[c] = hm >= cv2.dilate(hm, kernel)
    return out


def decode(heatmap: F32, ltrb: F32, stride: float, score_threshold: float = 0.05,
           max_detections: int = 100, nms_iou: float = 0.6) -> Detections:
    """Detections in model-input pixels for one image (see module docstring)."""
    _check(heatmap, ltrb)
    if stride <= 0 or max_detections < 1 or not 0.0 <= score_threshold < 1.0:
        raise ValueError("stride > 0, max_detections >= 1 and 0 <= score_threshold < 1 needed")
    hm = np.asarray(heatmap, dtype=np.float32)
    cand = peak_mask(hm) & (hm >= np.float32(score_threshold))
    cls, ys, xs = np.nonzero(cand)
    if cls.size == 0:
        return Detections.empty()
    scores = hm[cls, ys, xs]
    top = np.argsort(-scores, kind="stable")[:max_detections]
    cls, ys, xs, scores = cls[top], ys[top], xs[top], scores[top]
    cx = (xs.astype(np.float32) + np.float32(0.5)) * np.float32(stride)
    cy = (ys.astype(np.float32) + np.float32(0.5)) * np.float32(stride)
    d = np.maximum(np.asarray(ltrb, dtype=np.float32)[:, ys, xs], np.float32(0.5))
    boxes = np.stack([cx - d[0], cy - d[1], cx + d[2], cy + d[3]], axis=1).astype(np.float32)
    keep = nms(boxes, scores, cls, nms_iou)
    return Detections(boxes[keep], scores[keep].astype(np.float32), cls[keep].astype(np.int64))


def class_scores(heatmap: F32) -> F32:
    """Image-level score per class, float32 ``[C]``: the maximum of each class map."""
    if heatmap.ndim != 3:
        raise ValueError(f"expected heatmap [C, h, w], got {heatmap.shape}")
    return np.asarray(heatmap.reshape(heatmap.shape[0], -1).max(axis=1), dtype=np.float32)
