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

import math
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
    ``parallax``: how far, along the eye line, the nose tip leaves the place a 2-D similarity
    fitted to the four eye corners predicts (90th percentile over frames, inter-ocular
    units). The nose sits ~0.6
    inter-ocular distances in front of the eyes, so a real head that turns by 10 degrees moves
    it ~0.1 off the prediction; on a photo or screen the nose is in the eyes' plane and only
    foreshortening/shear of the plane moves it (<~0.03 for hand-held tilts)."""

    motion: float
    parallax: float
    frames: int
    interocular_px: float


def _interocular(marks: npt.NDArray[np.float64]) -> float:
    right = (marks[0] + marks[1]) / 2.0
    left = (marks[2] + marks[3]) / 2.0
    return float(np.hypot(*(left - right)))


def _similarity(src: npt.NDArray[np.float64], dst: npt.NDArray[np.float64]) -> npt.NDArray[
        np.float64]:
    """Least-squares 2-D similarity (complex-number form) mapping ``src`` to ``dst``."""
    zs = src[:, 0] + 1j * src[:, 1]
    zd = dst[:, 0] + 1j * dst[:, 1]
    ms, md = zs.mean(), zd.mean()
    a = np.vdot(zs - ms, zd - md) / max(np.vdot(zs - ms, zs - ms).real, 1e-12)
    return np.array([[a.real, -a.imag, (md - a * ms).real], [a.imag, a.real, (md - a * ms).imag]])


def motion_cue(tracks: npt.ArrayLike) -> MotionCue:
    """3-D motion test on 5-point landmark tracks ``[T, 5, 2]`` (T >= 2), frame 0 as reference."""
    t = np.asarray(tracks, dtype=np.float64)
    if t.ndim != 3 or t.shape[1:] != (5, 2) or t.shape[0] < 2:
        raise ValueError(f"tracks must be [T>=2, 5, 2], got {t.shape}")
    if not np.all(np.isfinite(t)):
        raise ValueError("tracks must be finite")
    iod = _interocular(t[0])
    if iod <= 1.0:
        raise ValueError("eyes coincide in frame 0")
    residuals, moves = [], []
    for frame in t[1:]:
        moves.append(float(np.median(np.hypot(*(frame - t[0]).T))) / iod)
        m = _similarity(t[0, :4], frame[:4])
        nose = m[:, :2] @ t[0, 4] + m[:, 2]
        scale = math.hypot(m[0, 0], m[1, 0])
        # Only the component along the eye line: foreshortening of a tilted plane moves the
        # nose across it (towards the eyes), a head turn moves it along it.
        eye_line = (frame[2] + frame[3] - frame[0] - frame[1]) / 2.0
        unit = eye_line / max(float(np.hypot(*eye_line)), 1e-6)
        along = float(abs(np.dot(frame[4] - nose, unit)))
        residuals.append(along / (iod * max(scale, 1e-6)))
    return MotionCue(motion=float(np.median(moves)), parallax=float(np.percentile(residuals, 90)),
                     frames=int(t.shape[0]), interocular_px=iod)


@dataclass(frozen=True)
class LivenessThresholds:
    """Decision thresholds (docs/faces.md says how they were chosen and what they miss).

    ``max_peak_excess`` 2.6: ~5 % of real faces exceed it (chosen on half the real faces).
    ``min_hf_ratio`` 0: off -- measured useless (simulated attacks gain, not lose, detail).
    ``use_motion`` False: the 5-point parallax cue is computed and reported but does not decide.
    Measured (bench/results/faces.json): a photo moved with perspective tilt leaves nose
    residuals of 0.02-0.18 inter-ocular units, overlapping a real head (0.06 on the one real
    track we have): with four nearly collinear eye corners a plane's shear mimics depth. A
    dense (68-point) landmark set would be needed. ``min_parallax`` 0.05 (a ~5 degree turn) is
    what it would use if enabled; even then it is a challenge (a person who moves without
    turning fails) and a replayed video of a turning head passes.
    Tracks with less motion than ``min_motion`` or eyes closer than ``min_interocular_px`` are
    inconclusive: landmark noise is then as large as any parallax.
    """

    max_peak_excess: float = 2.6
    min_hf_ratio: float = 0.0
    min_motion: float = 0.05
    min_parallax: float = 0.05
    use_motion: bool = False
    min_interocular_px: float = 40.0


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
                    frames=motion.frames, interocular_px=round(motion.interocular_px, 1))
        if (not th.use_motion or motion.motion < th.min_motion
                or motion.interocular_px < th.min_interocular_px):
            inconclusive = True
        elif motion.parallax < th.min_parallax:
            reasons.append("the face moved like a flat surface (photo or screen)")
    if reasons:
        return LivenessResult(False, tuple(reasons), cues)
    if texture is None and (motion is None or inconclusive):
        why = ("no texture cue; the motion cue is off, or saw too little head motion or too "
               "small a face" if motion else "no cue computed")
        return LivenessResult(None, (why,), cues)
    return LivenessResult(True, (), cues)
