"""Box arithmetic in numpy: pairwise IoU and class-wise non-maximum suppression.

Boxes are float ``[N, 4]`` pixel xyxy (x right, y down).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]


def box_iou(a: npt.NDArray[np.floating[Any]], b: npt.NDArray[np.floating[Any]]) -> F32:
    """IoU matrix float32 ``[len(a), len(b)]`` of two xyxy box arrays."""
    a = np.asarray(a, dtype=np.float32).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float32).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0.0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0.0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0.0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.asarray(np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0),
                      dtype=np.float32)


def nms(boxes: npt.NDArray[np.floating[Any]], scores: npt.NDArray[np.floating[Any]],
        class_ids: npt.NDArray[np.integer[Any]], iou_threshold: float) -> npt.NDArray[np.intp]:
    """Indices kept by greedy class-wise NMS, highest score first."""
    if not 0.0 < iou_threshold <= 1.0:
        raise ValueError(f"iou_threshold must be in (0, 1], got {iou_threshold}")
    order = np.argsort(-np.asarray(scores), kind="stable")
    keep: list[int] = []
    b = np.asarray(boxes, dtype=np.float32)
    c = np.asarray(class_ids)
    suppressed = np.zeros(len(order), dtype=bool)
    for pos, i in enumerate(order):
        if suppressed[pos]:
            continue
        keep.append(int(i))
        rest = order[pos + 1:]
        if rest.size == 0:
            break
        ious = box_iou(b[i:i + 1], b[rest])[0]
        suppressed[pos + 1:] |= (ious > iou_threshold) & (c[rest] == c[i])
    return np.asarray(keep, dtype=np.intp)
