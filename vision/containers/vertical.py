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


Box = tuple[int, int, int, int]
COLUMN_KERNELS = (7, 11, 15)  # stroke-extraction kernels (pixels): characters ~6-30 px high
MAX_COLUMNS = 32


def column_candidates(image: Image, min_height: int = 60, max_height: int = 400,
                      limit: int = MAX_COLUMNS) -> list[Box]:
    """Pixel ``xyxy`` boxes of narrow tall columns of ink that may be a vertical code (11
    upright characters stacked, 6-30 px each) in a uint8 BGR/grey image, tallest first.

    Dark and light strokes are isolated with black-hat / top-hat filters of a few sizes,
    binarised (Otsu), joined vertically (a closing 7 px high bridges the gaps between
    characters) and kept as candidates when ``min_height <= h <= max_height``, ``3 <= w <= 20``
    (pixels), ``h >= 6 w`` and at least a quarter of the box is ink. Many candidates are
    rivet rows or edges: a reader must verify them (e.g. with the ISO 6346 check digit).
    Near-duplicates (one box covering 70 % of another) keep the taller.
    """
    grey = cv2.cvtColor(as_bgr(image), cv2.COLOR_BGR2GRAY)
    close = cv2.getStructuringElement(cv2.MORPH_RECT, (1, 7))
    found: list[Box] = []
    for size in COLUMN_KERNELS:
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
        for op in (cv2.MORPH_BLACKHAT, cv2.MORPH_TOPHAT):
            strokes = cv2.morphologyEx(grey, op, kernel)
            _, bw = cv2.threshold(strokes, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
            bw = cv2.morphologyEx(bw, cv2.MORPH_CLOSE, close)
            n, _, stats, _ = cv2.connectedComponentsWithStats(bw)
            for x, y, w, h, area in stats[1:n]:
                if (min_height <= h <= max_height and 3 <= w <= 20 and h >= 6 * w
                        and area >= 0.25 * w * h):
                    found.append((int(x), int(y), int(x + w), int(y + h)))
    found.sort(key=lambda b: -(b[3] - b[1]))
    kept: list[Box] = []
    for b in found:
        if not any(_covered(b, k) for k in kept):
            kept.append(b)
    return kept[:limit]


def _covered(a: Box, b: Box) -> bool:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return smaller > 0 and ix * iy >= 0.7 * smaller


def column_crop(image: Image, box: Box) -> Image:
    """A candidate column (``xyxy`` pixels) with a margin of half its width at the sides and
    5 % of its height above and below, turned a quarter counter-clockwise so the stacked
    characters form a line (read top to bottom, left to right); uint8 BGR."""
    bgr = as_bgr(image)
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    X0, X1 = max(0, int(x0 - 0.5 * w)), min(bgr.shape[1], int(np.ceil(x1 + 0.5 * w)))
    Y0, Y1 = max(0, int(y0 - 0.05 * h)), min(bgr.shape[0], int(np.ceil(y1 + 0.05 * h)))
    return np.ascontiguousarray(np.rot90(bgr[Y0:Y1, X0:X1], 1))
