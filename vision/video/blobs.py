"""Foreground mask -> object boxes (motion blobs).

Cleaning: an opening removes speckle noise, a closing (taller than wide, because people and
poles are upright) re-joins a body split by a similar-coloured shirt or a table leg. Boxes that
overlap or nearly touch are merged, because one person's head, torso and legs often come out as
separate blobs.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from vision.video.types import OBJECT, PERSON, VEHICLE, Detections

U8Image = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class BlobParams:
    """Sizes are in pixels of the mask's resolution. ``min_area`` filters speckles; ``merge_gap``
    joins boxes closer than this many pixels; ``min_fill`` drops boxes whose foreground covers
    less than this fraction of the box (merged noise)."""

    open_px: int = 3
    close_w: int = 5
    close_h: int = 11
    min_area: int = 120
    merge_gap: int = 6
    min_fill: float = 0.15
    max_area_fraction: float = 0.6

    def __post_init__(self) -> None:
        if min(self.open_px, self.close_w, self.close_h) < 1:
            raise ValueError("morphology kernel sizes must be >= 1")
        if self.min_area < 1 or self.merge_gap < 0:
            raise ValueError("min_area must be >= 1 and merge_gap >= 0")


def clean_mask(mask: U8Image, p: BlobParams) -> U8Image:
    """Open then close a ``uint8 [H, W]`` 0/255 mask."""
    out = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((p.open_px, p.open_px), np.uint8))
    out = cv2.morphologyEx(out, cv2.MORPH_CLOSE, np.ones((p.close_h, p.close_w), np.uint8))
    return np.asarray(out, dtype=np.uint8)


def _merge(boxes: list[list[float]], gap: float) -> list[list[float]]:
    """Union boxes that overlap after growing each by ``gap``, until nothing changes."""
    changed = True
    while changed and len(boxes) > 1:
        changed = False
        out: list[list[float]] = []
        for b in boxes:
            for o in out:
                if (b[0] - gap <= o[2] and o[0] - gap <= b[2]
                        and b[1] - gap <= o[3] and o[1] - gap <= b[3]):
                    o[0], o[1] = min(o[0], b[0]), min(o[1], b[1])
                    o[2], o[3] = max(o[2], b[2]), max(o[3], b[3])
                    changed = True
                    break
            else:
                out.append(list(b))
        boxes = out
    return boxes


def shape_label(w: float, h: float, min_vehicle_area: float) -> str:
    """Coarse class of an unclassified blob from its shape: wide and large -> vehicle,
    upright -> person, anything else -> object. A guess that the HOG check refines."""
    if w >= 1.2 * h and w * h >= min_vehicle_area:
        return VEHICLE
    if h >= 1.5 * w:
        return PERSON
    return OBJECT


def mask_to_detections(mask: U8Image, p: BlobParams | None = None,
                       min_vehicle_area: float = 600.0) -> Detections:
    """Boxes of the foreground blobs of a ``uint8 [H, W]`` 0/255 mask, in mask pixels.

    Score = foreground fill ratio of the box mapped to [0.3, 1.0] (a dense blob is more likely
    a real object than a sparse one); label from :func:`shape_label`.
    """
    p = p or BlobParams()
    if mask.ndim != 2 or mask.dtype != np.uint8:
        raise ValueError(f"expected uint8 [H, W] mask, got {mask.dtype} {mask.shape}")
    clean = clean_mask(mask, p)
    n, _, stats, _ = cv2.connectedComponentsWithStats(clean, connectivity=8)
    raw = [[float(x), float(y), float(x + w), float(y + h)]
           for x, y, w, h, a in stats[1:] if a >= max(4, p.min_area // 4)]
    merged = _merge(raw, float(p.merge_gap))
    h_img, w_img = mask.shape
    boxes: list[tuple[float, float, float, float]] = []
    scores: list[float] = []
    labels: list[str] = []
    for x1, y1, x2, y2 in merged:
        w, h = x2 - x1, y2 - y1
        area = w * h
        if area < p.min_area or area > p.max_area_fraction * h_img * w_img:
            continue
        fill = float(np.count_nonzero(clean[int(y1):int(y2), int(x1):int(x2)])) / area
        if fill < p.min_fill:
            continue
        boxes.append((x1, y1, x2, y2))
        scores.append(0.3 + 0.7 * min(1.0, fill))
        labels.append(shape_label(w, h, min_vehicle_area))
    return Detections.from_lists(boxes, scores, labels)
