"""Vertical container codes: characters printed upright one above the other.

A recogniser reads one horizontal line, so a tall crop of stacked characters is cut into
character cells at the low-ink rows between them and the cells are laid side by side.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from vision.ocr_det import as_bgr

Image = npt.NDArray[np.uint8]


def character_rows(crop: Image, min_gap: int = 1) -> list[tuple[int, int]]:
    """``(start, end)`` row ranges of the characters in an upright tall crop (uint8 BGR/grey).

    Ink is the distance of each pixel from the crop's median (text may be dark or light);
    rows with less than 15 % of the strongest row's ink are gaps.
    """
    grey = cv2.cvtColor(as_bgr(crop), cv2.COLOR_BGR2GRAY).astype(np.float32)
    if grey.shape[0] < 4 or grey.shape[1] < 2:
        raise ValueError(f"crop too small: {crop.shape}")
    ink = np.abs(grey - float(np.median(grey)))
    w = grey.shape[1]
    profile = ink[:, int(w * 0.1):max(int(w * 0.9), 1)].mean(axis=1)
    on = profile > 0.15 * float(profile.max() or 1.0)
    rows: list[tuple[int, int]] = []
    start = None
    for y, v in enumerate(on):
        if v and start is None:
            start = y
        elif not v and start is not None:
            rows.append((start, y))
            start = None
    if start is not None:
        rows.append((start, len(on)))
    # merge runs split by a gap thinner than min_gap (broken strokes)
    merged: list[tuple[int, int]] = []
    for r in rows:
        if merged and r[0] - merged[-1][1] < min_gap:
            merged[-1] = (merged[-1][0], r[1])
        else:
            merged.append(r)
    return [r for r in merged if r[1] - r[0] >= 2]


def stack_to_line(crop: Image, height: int = 48) -> Image:
    """Character cells of a vertical code side by side, each ``height`` pixels high with a
    small gap, as one uint8 BGR line. Returns the crop rotated to horizontal when no cells
    are found."""
    bgr = as_bgr(crop)
    rows = character_rows(bgr)
    if len(rows) < 2:
        return np.ascontiguousarray(np.rot90(bgr, -1))
    pad = max(2, height // 8)
    cells = []
    bg = np.median(bgr.reshape(-1, 3), axis=0).astype(np.uint8)
    for a, b in rows:
        cell = bgr[a:b]
        ch, cw = cell.shape[:2]
        inner = height - 2 * pad
        scaled = cv2.resize(cell, (max(1, int(round(cw * inner / ch))), inner))
        framed = np.empty((height, scaled.shape[1] + pad, 3), dtype=np.uint8)
        framed[:] = bg
        framed[pad:pad + inner, :scaled.shape[1]] = scaled
        cells.append(framed)
    return np.ascontiguousarray(np.concatenate(cells, axis=1))
