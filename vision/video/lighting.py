"""Lighting: low-light detection and enhancement, and photometric gain between two images.

Night frames from perimeter cameras are dark and noisy; CLAHE on the luma channel after a gamma
lift brings people back into the range a background model and the HOG detector can work with,
without amplifying the noise of the whole frame (CLAHE clips the local histogram).

Automatic exposure and passing clouds scale the whole image; :func:`estimate_gain` measures that
scale against a background so the background model can divide it out instead of declaring the
whole frame foreground.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

U8Image = npt.NDArray[np.uint8]
F32Image = npt.NDArray[np.float32]


def mean_luma(frame: U8Image) -> float:
    """Mean luma in [0, 255] of a BGR ``uint8 [H, W, 3]`` or grey ``[H, W]`` frame (on a 4x
    subsample: this is a cheap decision, not a measurement)."""
    small = frame[::4, ::4]
    if small.ndim == 3:
        small = np.asarray(cv2.cvtColor(np.ascontiguousarray(small), cv2.COLOR_BGR2GRAY),
                           dtype=np.uint8)
    return float(small.mean())


def is_low_light(frame: U8Image, threshold: float = 60.0) -> bool:
    """True when the frame's mean luma is below ``threshold`` (0-255)."""
    return mean_luma(frame) < threshold


class LowLightEnhancer:
    """Gamma lift + CLAHE on the L channel (Lab) of BGR ``uint8`` frames.

    ``gamma < 1`` brightens shadows; the gamma curve is a precomputed 256-entry LUT. Frames whose
    mean luma is at or above ``threshold`` are returned unchanged (same object), so it is safe to
    run on every frame of a day/night camera.
    """

    def __init__(self, threshold: float = 60.0, gamma: float = 0.5, clip_limit: float = 2.0,
                 tile: int = 8) -> None:
        if not 0.0 < gamma <= 1.0:
            raise ValueError(f"gamma must be in (0, 1], got {gamma}")
        if clip_limit <= 0 or tile < 1:
            raise ValueError("clip_limit must be > 0 and tile >= 1")
        self.threshold = threshold
        lut = (255.0 * (np.arange(256, dtype=np.float32) / 255.0) ** gamma).round()
        self._lut: U8Image = lut.clip(0, 255).astype(np.uint8)
        self._clahe = cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(tile, tile))

    def __call__(self, frame: U8Image) -> U8Image:
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"expected BGR uint8 [H, W, 3], got {frame.dtype} {frame.shape}")
        if not is_low_light(frame, self.threshold):
            return frame
        lab = cv2.cvtColor(frame, cv2.COLOR_BGR2LAB)
        lum = cv2.LUT(lab[:, :, 0], self._lut)
        lab[:, :, 0] = self._clahe.apply(lum)
        out = np.asarray(cv2.cvtColor(lab, cv2.COLOR_LAB2BGR), dtype=np.uint8)
        return out


def estimate_gain(frame: F32Image, background: F32Image,
                  valid: npt.NDArray[np.bool_] | None = None, step: int = 4) -> float:
    """Global multiplicative gain ``g`` with ``frame ~ g * background``.

    Both are ``float32 [H, W]`` intensities (0-255). ``g`` is the median of the per-pixel ratio
    over a ``step``-subsampled grid of ``valid`` pixels that are neither black nor saturated;
    the median ignores foreground objects as long as they cover less than half of the frame.
    Returns 1.0 when too few pixels qualify.
    """
    f = frame[::step, ::step]
    b = background[::step, ::step]
    ok = (b > 8.0) & (b < 250.0) & (f > 2.0) & (f < 253.0)
    if valid is not None:
        ok &= valid[::step, ::step]
    if int(ok.sum()) < 50:
        return 1.0
    return float(np.median(f[ok] / b[ok]))
