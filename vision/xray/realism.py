"""Image statistics to compare synthetic pseudo-colour scans with real ones.

For a set of RGB uint8 (H, W, 3) images, each is resized so its long side is ``long_side``
pixels (edge statistics depend on scale), the foreground is taken as pixels with any channel
below ``fg_threshold`` (scanner backgrounds are white), and three statistics are pooled over
the set:

* foreground histograms (32 bins) of R, G, B and of HSV saturation and value;
* hue proportions of coloured foreground pixels (saturation >= 0.2): orange (hue 5-50 deg),
  green (50-160 deg), blue (160-265 deg), other;
* the histogram of Sobel gradient magnitude on the grey image (24 bins, 0-255).

:func:`realism_distance` compares two pooled statistics: 1-D Wasserstein distance of each
histogram (in units of the histogram range, so 0..1), half the L1 distance of the hue
proportions (0..1), and their mean as ``total``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

U8 = NDArray[np.uint8]
F64 = NDArray[np.float64]

_CH_BINS = 32
_GRAD_BINS = 24
HUE_NAMES: tuple[str, ...] = ("orange", "green", "blue", "other")


@dataclass(frozen=True)
class ImageSetStats:
    """Pooled statistics of an image set (histograms normalised to sum 1)."""

    channel_hist: F64  # (5, 32): R, G, B, saturation, value
    hue_props: F64  # (4,)
    grad_hist: F64  # (24,)
    foreground_fraction: float
    n_images: int


def _prepare(rgb: U8, long_side: int) -> U8:
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError("realism statistics need uint8 RGB images (H, W, 3)")
    h, w = rgb.shape[:2]
    scale = long_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def image_set_stats(
    images: Iterable[U8], long_side: int = 512, fg_threshold: int = 225
) -> ImageSetStats:
    """Pool the statistics of RGB uint8 images (see module docstring)."""
    ch = np.zeros((5, _CH_BINS))
    hue = np.zeros(len(HUE_NAMES))
    grad = np.zeros(_GRAD_BINS)
    fg_pixels = 0
    all_pixels = 0
    n = 0
    for raw in images:
        rgb = _prepare(raw, long_side)
        fg = rgb.min(axis=2) < fg_threshold
        n += 1
        all_pixels += fg.size
        if not fg.any():
            continue
        fg_pixels += int(fg.sum())
        hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
        for k, plane in enumerate((rgb[..., 0], rgb[..., 1], rgb[..., 2], hsv[..., 1],
                                   hsv[..., 2])):
            ch[k] += np.bincount(plane[fg] // (256 // _CH_BINS), minlength=_CH_BINS)
        coloured = fg & (hsv[..., 1] >= 51)
        h_deg = hsv[..., 0][coloured].astype(np.int32) * 2
        hue += np.array([
            np.count_nonzero((h_deg >= 5) & (h_deg < 50)),
            np.count_nonzero((h_deg >= 50) & (h_deg < 160)),
            np.count_nonzero((h_deg >= 160) & (h_deg < 265)),
            np.count_nonzero((h_deg < 5) | (h_deg >= 265)),
        ], dtype=np.float64)
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
        gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
        mag = np.minimum(np.sqrt(gx * gx + gy * gy) / 4.0, 255.0)[fg]
        grad += np.bincount((mag * (_GRAD_BINS / 256.0)).astype(np.int64), minlength=_GRAD_BINS)
    if n == 0:
        raise ValueError("no images given")

    def norm(a: F64) -> F64:
        s = a.sum(axis=-1, keepdims=True)
        return np.asarray(np.where(s > 0, a / np.maximum(s, 1e-12), 0.0), dtype=np.float64)

    return ImageSetStats(norm(ch), norm(hue), norm(grad),
                         fg_pixels / max(all_pixels, 1), n)


def _wasserstein(p: F64, q: F64) -> float:
    """1-D earth mover's distance between two histograms on the same bins, in bin-range units."""
    return float(np.abs(np.cumsum(p) - np.cumsum(q)).sum() / len(p))


def realism_distance(a: ImageSetStats, b: ImageSetStats) -> dict[str, float]:
    """Distances between two pooled statistics (0 = identical); keys: channels, hue, edges,
    total (mean of the three) and foreground (absolute difference of foreground fractions,
    reported but not part of the total: it reflects scene framing, not rendering)."""
    channels = float(np.mean([_wasserstein(a.channel_hist[k], b.channel_hist[k])
                              for k in range(a.channel_hist.shape[0])]))
    hue = 0.5 * float(np.abs(a.hue_props - b.hue_props).sum())
    edges = _wasserstein(a.grad_hist, b.grad_hist)
    return {
        "channels": channels,
        "hue": hue,
        "edges": edges,
        "total": (channels + hue + edges) / 3.0,
        "foreground": abs(a.foreground_fraction - b.foreground_fraction),
    }
