"""Plate background colour from an (upright, tight) plate crop.

Chinese plates code the vehicle class in the background: blue (small), yellow (large, trailers,
coaches), green (new energy: gradient green for small, yellow-green for large), white (police,
military), black (embassy, Hong Kong / Macau). Mongolian plates are white.

Hue is OpenCV's 0-179 scale; saturation and value 0-255.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from vision.ocr_det import as_bgr

# (name, hue low, hue high) for saturated backgrounds
_HUES: tuple[tuple[str, int, int], ...] = (("yellow", 11, 34), ("green", 35, 95),
                                            ("blue", 96, 135))
MIN_SAT = 70


def plate_colour(crop: npt.NDArray[np.uint8]) -> str:
    """``blue``, ``yellow``, ``green``, ``white`` or ``black`` for a plate crop (uint8 BGR/grey).

    Looks at the central 80 % of the crop; the background is the majority tone, so the largest
    hue group among saturated pixels wins when saturated pixels are at least a quarter of the
    crop, else brightness decides white vs black.
    """
    bgr = as_bgr(crop)
    h, w = bgr.shape[:2]
    if h < 2 or w < 2:
        raise ValueError(f"crop too small: {crop.shape}")
    core = bgr[int(h * 0.1):max(int(h * 0.9), 1), int(w * 0.1):max(int(w * 0.9), 1)]
    hsv = cv2.cvtColor(core, cv2.COLOR_BGR2HSV).reshape(-1, 3).astype(np.int32)
    hue, sat, val = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    saturated = (sat >= MIN_SAT) & (val >= 50)
    counts = {name: int(np.count_nonzero(saturated & (hue >= lo) & (hue <= hi)))
              for name, lo, hi in _HUES}
    best = max(counts, key=lambda k: counts[k])
    if counts[best] >= 0.25 * hue.size:
        return best
    return "white" if float(np.median(val)) >= 110 else "black"
