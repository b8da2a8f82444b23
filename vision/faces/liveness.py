"""Basic presentation-attack cues: spectral (print halftone / screen moire / recapture blur)
on one face, and 3-D parallax of the landmarks across frames (a photo moves as a plane).

These are *cues*, not a certified PAD system. Their measured limits are in docs/faces.md
(bench/bench_faces.py measures them); in short: they catch naive recaptures whose grid or
blur survives at the camera's resolution, and a photo or screen that is moved in front of the
camera; they do not catch a high-resolution print held still, a 3-D mask, or a replayed video
of a moving head on a screen too fine for the camera to resolve.

Conventions: grey ``uint8 [H, W]`` patches at the camera's native resolution (do not resize
up: resampling hides exactly the periodic patterns we look for); landmark tracks float
``[T, 5, 2]`` in dlib's 5-point order, pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

PATCH = 128  # analysis window (pixels, native resolution)


@dataclass(frozen=True)
class SpectralCues:
    """``peak_excess``: strongest isolated spectral peak above the radial median, in natural-log
    units (periodic halftone / pixel-grid moire make it large); ``hf_ratio``: share of energy
    above 0.25 cycles/pixel among 0.03-0.5 (recapture blur makes it small)."""

    peak_excess: float
    hf_ratio: float


def face_patch(grey: npt.NDArray[np.uint8], box: tuple[float, float, float, float],
               size: int = PATCH) -> npt.NDArray[np.uint8]:
    """The central ``size`` x ``size`` window of a face box (inner skin region), at native
    resolution; faces smaller than ``size`` give their whole inner 60 % resized to ``size``."""
    if grey.dtype != np.uint8 or grey.ndim != 2:
        raise ValueError(f"grey must be uint8 [H, W], got {grey.dtype} {grey.shape}")
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2.0, (y1 + y2) / 2.0
    inner = 0.6 * min(x2 - x1, y2 - y1)
    if inner <= 4:
        raise ValueError(f"face box {box} is too small")
    half = size / 2.0 if inner >= size else inner / 2.0
    h, w = grey.shape
    xa, ya = int(max(0, round(cx - half))), int(max(0, round(cy - half)))
    xb, yb = int(min(w, round(cx + half))), int(min(h, round(cy + half)))
    patch = grey[ya:yb, xa:xb]
    if patch.shape != (size, size):
        patch = np.asarray(cv2.resize(patch, (size, size), interpolation=cv2.INTER_LINEAR),
                           dtype=np.uint8)
    out: npt.NDArray[np.uint8] = np.ascontiguousarray(patch)
    return out


def spectral_cues(patch: npt.NDArray[np.uint8]) -> SpectralCues:
    """Cues from the log-magnitude spectrum of a square grey patch (Hann-windowed)."""
    if patch.dtype != np.uint8 or patch.ndim != 2 or patch.shape[0] != patch.shape[1]:
        raise ValueError(f"patch must be square uint8 [N, N], got {patch.dtype} {patch.shape}")
    n = patch.shape[0]
    if n < 32:
        raise ValueError(f"patch must be >= 32 px, got {n}")
    x = patch.astype(np.float64)
    x -= x.mean()
    win = np.outer(np.hanning(n), np.hanning(n))
    mag = np.abs(np.fft.fftshift(np.fft.fft2(x * win))) + 1e-6
    yy, xx = np.mgrid[:n, :n]
    radius = np.hypot(yy - n // 2, xx - n // 2) / n  # cycles per pixel
    ring = np.rint(radius * n).astype(np.int64)
    logmag = np.log(mag)
    band = (radius >= 0.08) & (radius <= 0.5)
    median = np.zeros(ring.max() + 1)
    for r in np.unique(ring[band]):
        median[r] = np.median(logmag[ring == r])
    excess = np.where(band, logmag - median[ring], -np.inf)
    power = mag**2
    low = (radius >= 0.03) & (radius <= 0.5)
    high = (radius > 0.25) & (radius <= 0.5)
    hf = float(power[high].sum() / max(power[low].sum(), 1e-12))
    return SpectralCues(peak_excess=float(excess.max()), hf_ratio=hf)


@dataclass(frozen=True)
class MotionCue:
    """``motion``: median landmark displacement over the track, in inter-ocular distances;
    ``parallax``: RMS residual of the best per-frame homography from frame 0 (same unit) --
    ~0 for a plane (photo, screen), larger for a real head that turns."""

    motion: float
    parallax: float
    frames: int


def _interocular(marks: npt.NDArray[np.float64]) -> float:
    right = (marks[0] + marks[1]) / 2.0
    left = (marks[2] + marks[3]) / 2.0
    return float(np.hypot(*(left - right)))


def motion_cue(tracks: npt.ArrayLike) -> MotionCue:
    """Planarity test on 5-point landmark tracks ``[T, 5, 2]`` (T >= 2)."""
    t = np.asarray(tracks, dtype=np.float64)
    if t.ndim != 3 or t.shape[1:] != (5, 2) or t.shape[0] < 2:
        raise ValueError(f"tracks must be [T>=2, 5, 2], got {t.shape}")
    if not np.all(np.isfinite(t)):
        raise ValueError("tracks must be finite")
    iod = _interocular(t[0])
    if iod <= 1.0:
        raise ValueError("eyes coincide in frame 0")
    ref = t[0].astype(np.float32)
    residuals, moves = [], []
    for frame in t[1:]:
        moves.append(float(np.median(np.hypot(*(frame - t[0]).T))) / iod)
        h, _ = cv2.findHomography(ref, frame.astype(np.float32), 0)
        if h is None:
            continue
        proj = cv2.perspectiveTransform(ref[None], h)[0]
        residuals.append(float(np.sqrt(np.mean((proj - frame) ** 2))) / iod)
    parallax = float(np.percentile(residuals, 90)) if residuals else 0.0
    return MotionCue(motion=float(np.median(moves)), parallax=parallax, frames=int(t.shape[0]))


@dataclass(frozen=True)
class LivenessThresholds:
    """Decision thresholds (see docs/faces.md for how they were chosen)."""

    max_peak_excess: float = 3.5
    min_hf_ratio: float = 0.004
    min_motion: float = 0.05
    min_parallax: float = 0.004


@dataclass(frozen=True)
class LivenessResult:
    """``live``: True (no cue fired), False (a cue fired), None (motion test inconclusive and
    no texture evidence); ``reasons``: which cues fired or why inconclusive."""

    live: bool | None
    reasons: tuple[str, ...]
    cues: dict[str, Any]


def decide(texture: SpectralCues | None, motion: MotionCue | None,
           th: LivenessThresholds | None = None) -> LivenessResult:
    th = th or LivenessThresholds()
    reasons: list[str] = []
    cues: dict[str, Any] = {}
    if texture is not None:
        cues.update(peak_excess=round(texture.peak_excess, 3),
                    hf_ratio=round(texture.hf_ratio, 5))
        if texture.peak_excess > th.max_peak_excess:
            reasons.append("periodic pattern (print halftone or screen moire)")
        if texture.hf_ratio < th.min_hf_ratio:
            reasons.append("too little fine detail (recaptured or defocused)")
    inconclusive = False
    if motion is not None:
        cues.update(motion=round(motion.motion, 4), parallax=round(motion.parallax, 5),
                    frames=motion.frames)
        if motion.motion < th.min_motion:
            inconclusive = True
        elif motion.parallax < th.min_parallax:
            reasons.append("the face moved like a flat surface (photo or screen)")
    if reasons:
        return LivenessResult(False, tuple(reasons), cues)
    if texture is None and (motion is None or inconclusive):
        why = "no texture cue and too little head motion" if motion else "no cue computed"
        return LivenessResult(None, (why,), cues)
    return LivenessResult(True, (), cues)
