"""Material class of a region of a vendor pseudo-colour image, from hue and brightness.

Vendors colour by Zeff: orange = organic, green = inorganic/mixed, blue = metal; very dark
pixels carry too little signal for a material statement (impenetrable); white/grey pixels are
empty belt or thin material. This reads those conventions back when only the 8-bit picture
exists (the raw pair gives the real Zeff, :mod:`vision.xray.zeff`).

Hue bands are OpenCV HSV (H in 0..179): organic 5-34, inorganic 35-84, metal 85-150.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

U8 = npt.NDArray[np.uint8]
LABELS = ("background", "organic", "inorganic", "metal", "impenetrable")


def pixel_classes(rgb: U8) -> npt.NDArray[np.uint8]:
    """Per-pixel class index into :data:`LABELS`, uint8 (H, W), for uint8 RGB (H, W, 3)."""
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected uint8 RGB (H, W, 3), got {rgb.dtype} {rgb.shape}")
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    out = np.zeros(rgb.shape[:2], dtype=np.uint8)
    coloured = (s >= 40) & (v >= 40)
    out[coloured & (h >= 5) & (h < 35)] = 1
    out[coloured & (h >= 35) & (h < 85)] = 2
    out[coloured & (h >= 85) & (h <= 150)] = 3
    out[v < 40] = 4
    return out


def region_material(rgb: U8, box_xyxy: tuple[float, float, float, float]) -> str:
    """Dominant material label inside a pixel box; metal wins at >= 20 % of the
    non-background pixels (a gun in a bag of clothes is mostly clothes by area)."""
    h, w = rgb.shape[:2]
    x1, y1, x2, y2 = (int(round(v)) for v in box_xyxy)
    x1, x2 = max(0, min(x1, w - 1)), max(1, min(x2, w))
    y1, y2 = max(0, min(y1, h - 1)), max(1, min(y2, h))
    cls = pixel_classes(np.ascontiguousarray(rgb[y1:max(y2, y1 + 1), x1:max(x2, x1 + 1)]))
    counts = np.bincount(cls.ravel(), minlength=len(LABELS))
    fg = counts[1:].sum()
    if fg == 0:
        return "background"
    if (counts[3] + counts[4]) / fg >= 0.2:
        return "metal" if counts[3] >= counts[4] else "impenetrable"
    return LABELS[1 + int(np.argmax(counts[1:]))]
