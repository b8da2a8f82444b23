"""Reviewed boxes: the edit model a reviewer sends, its validation and box geometry.

Boxes are pixel ``xyxy`` in the frame of one image (x right, y down, ``0 <= x1 < x2 <= width``,
``0 <= y1 < y2 <= height``); ``origin`` says where a box came from: ``model`` (a detection the
reviewer kept), ``reviewer`` (drawn, moved, resized or relabelled) or ``import`` (COCO file).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_BOXES = 500
_LABEL_RE = re.compile(r"^[\w .:/+-]{1,100}$")

Origin = Literal["model", "reviewer", "import"]


class LabelBox(BaseModel):
    """One labelled box."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    label: str = Field(min_length=1, max_length=100, description="class name, e.g. knife")
    box: tuple[float, float, float, float] = Field(description="pixel x1, y1, x2, y2")
    score: float | None = Field(default=None, ge=0.0, le=1.0,
                                description="model score of a kept detection")
    origin: Origin = "reviewer"


def check_boxes(boxes: Sequence[LabelBox], width: int, height: int) -> list[LabelBox]:
    """Return ``boxes`` if each lies inside a ``width`` x ``height`` image with positive size.

    Raises ``ValueError`` naming the first bad box (its index, what is wrong and the bounds).
    """
    if len(boxes) > MAX_BOXES:
        raise ValueError(f"at most {MAX_BOXES} boxes per image, got {len(boxes)}")
    for i, b in enumerate(boxes):
        if not _LABEL_RE.match(b.label):
            raise ValueError(f"box {i}: label {b.label!r} must be 1-100 letters, digits, "
                             "spaces or . _ : / + -")
        x1, y1, x2, y2 = b.box
        if not all(math.isfinite(v) for v in b.box):
            raise ValueError(f"box {i}: coordinates must be finite numbers")
        if x2 <= x1 or y2 <= y1:
            raise ValueError(f"box {i}: {list(b.box)} has a negative or zero size "
                             "(need x2 > x1 and y2 > y1)")
        if x1 < 0 or y1 < 0 or x2 > width or y2 > height:
            raise ValueError(f"box {i}: {list(b.box)} lies outside the {width} x {height} "
                             "image")
    return list(boxes)


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two xyxy boxes (0 when either is empty)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def covers(found: Sequence[float], target: Sequence[float], min_iou: float = 0.25,
           min_target_fraction: float = 0.5) -> bool:
    """Whether a reviewer's box ``found`` marks ``target``: IoU >= ``min_iou``, or it covers at
    least ``min_target_fraction`` of the target while being at most 10x its area (a box around
    the whole bag does not count)."""
    if iou(found, target) >= min_iou:
        return True
    ix = max(0.0, min(found[2], target[2]) - max(found[0], target[0]))
    iy = max(0.0, min(found[3], target[3]) - max(found[1], target[1]))
    t_area = (target[2] - target[0]) * (target[3] - target[1])
    f_area = (found[2] - found[0]) * (found[3] - found[1])
    return t_area > 0 and ix * iy >= min_target_fraction * t_area and f_area <= 10 * t_area


def clip_box(box: Sequence[float], width: int,
             height: int) -> tuple[float, float, float, float] | None:
    """``box`` clipped to the image, or None if nothing of it is inside."""
    x1, y1 = max(0.0, float(box[0])), max(0.0, float(box[1]))
    x2, y2 = min(float(width), float(box[2])), min(float(height), float(box[3]))
    return (x1, y1, x2, y2) if x2 > x1 and y2 > y1 else None
