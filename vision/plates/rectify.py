"""Perspective rectification of a plate (or any text quad) from its 4 corners, and splitting of
two-row plates into one line for a single-line recogniser.

Corners are pixel ``(x, y)`` float32 ``[4, 2]`` ordered top-left, top-right, bottom-right,
bottom-left (see :func:`vision.ocr_det.order_quad`); images are uint8 BGR ``HxWx3`` or grey.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from vision.ocr_det import Quad, order_quad

Image = npt.NDArray[np.uint8]


def quad_size(quad: Quad) -> tuple[float, float]:
    """Mean width and height of a quad (lengths of opposite edges averaged), in pixels."""
    q = order_quad(quad)
    w = (np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2
    h = (np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2
    return float(w), float(h)


def rectify(image: Image, corners: npt.NDArray[Any], out_height: int = 48,
            out_width: int | None = None, margin: tuple[float, float] = (0.0, 0.0)) -> Image:
    """Warp the quad ``corners`` to an upright ``out_height``-pixel-high rectangle.

    ``out_width`` defaults to the quad's own aspect ratio. ``margin = (mx, my)`` keeps that
    fraction of the quad's width/height of surroundings on each side (the output grows; pixels
    come from the image, replicated at its border) so that a slightly tight box does not cut
    the first or last character.
    """
    if out_height < 4:
        raise ValueError(f"out_height must be >= 4, got {out_height}")
    mx, my = margin
    if not (0 <= mx < 1 and 0 <= my < 1):
        raise ValueError(f"margins must be in [0, 1), got {margin}")
    q = order_quad(corners)
    w, h = quad_size(q)
    if w < 1 or h < 1:
        raise ValueError(f"degenerate quad {q.tolist()}")
    inner_h = out_height / (1 + 2 * my)
    inner_w = float(out_width) / (1 + 2 * mx) if out_width else inner_h * w / h
    ox, oy = inner_w * mx, inner_h * my
    total_w = max(4, int(round(inner_w + 2 * ox)))
    dst = np.array([[ox, oy], [ox + inner_w, oy], [ox + inner_w, oy + inner_h],
                    [ox, oy + inner_h]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(q, dst)
    return np.asarray(cv2.warpPerspective(image, m, (total_w, out_height), flags=cv2.INTER_LINEAR,
                                          borderMode=cv2.BORDER_REPLICATE), dtype=np.uint8)


def row_split(plate: Image, lo: float = 0.25, hi: float = 0.7) -> int:
    """Row index separating the two text rows of an upright two-row plate.

    Takes the row between ``lo`` and ``hi`` of the height with the least horizontal-gradient
    energy (character strokes) over the central 80 % of the width, after light smoothing.
    Gradients, unlike distance from the median grey, do not depend on how much dark surround
    or plate holder a tilted crop shows at each height.
    """
    grey = plate if plate.ndim == 2 else cv2.cvtColor(plate, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape[:2]
    if h < 8:
        raise ValueError(f"plate too small to split: {plate.shape}")
    g = cv2.GaussianBlur(grey.astype(np.float32), (0, 0), max(0.5, h / 120))
    gx = np.abs(np.diff(g, axis=1))
    inner = gx[:, int(w * 0.1):max(int(w * 0.9), int(w * 0.1) + 1)] if w > 24 else gx
    profile = np.convolve(inner.mean(axis=1), np.ones(3) / 3, mode="same")
    a, b = int(h * lo), max(int(h * lo) + 1, int(h * hi))
    return a + int(np.argmin(profile[a:b]))


def two_rows_to_line(plate: Image, split: int | None = None, height: int = 48) -> Image:
    """Top row then bottom row side by side, both resized to ``height`` pixels high."""
    y = row_split(plate) if split is None else split
    if not 0 < y < plate.shape[0]:
        raise ValueError(f"split row {y} outside the plate of height {plate.shape[0]}")
    parts = []
    for part in (plate[:y], plate[y:]):
        ph, pw = part.shape[:2]
        parts.append(cv2.resize(part, (max(1, int(round(pw * height / ph))), height),
                                interpolation=cv2.INTER_LINEAR))
    return np.ascontiguousarray(np.concatenate(parts, axis=1))


def plate_line(crop: Image, rows: int, height: int = 48) -> Image:
    """The one-line image a recogniser reads for an upright plate crop: the crop itself at
    ``height`` pixels for one-row plates, the two rows side by side for two-row plates."""
    if rows not in (1, 2):
        raise ValueError(f"rows must be 1 or 2, got {rows}")
    h, w = crop.shape[:2]
    if h < 2 or w < 2:
        raise ValueError(f"crop too small: {crop.shape}")
    if rows == 2:
        tall = np.asarray(cv2.resize(
            crop, (max(2, int(round(w * 2 * height / h))), 2 * height),
            interpolation=cv2.INTER_AREA if h > 2 * height else cv2.INTER_LINEAR), dtype=np.uint8)
        return two_rows_to_line(tall, height=height)
    return np.asarray(cv2.resize(crop, (max(2, int(round(w * height / h))), height),
                                 interpolation=cv2.INTER_AREA if h > height else cv2.INTER_LINEAR),
                      dtype=np.uint8)


def row_options(aspect: float) -> list[int]:
    """Row layouts worth trying for a plate quad of width/height ``aspect``: one-row plates are
    about 3-4.7:1, two-row plates 1.3-2:1; between 1.9 and 2.6 both are tried."""
    if aspect >= 2.6:
        return [1]
    if aspect <= 1.9:
        return [2]
    return [1, 2]
