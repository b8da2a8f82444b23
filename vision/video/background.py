"""Background subtraction that copes with lighting changes and with a moving camera.

A per-pixel running Gaussian (mean and variance of grey intensity) with three additions:

1. **Gain compensation.** Automatic exposure and clouds scale the whole frame. Before comparing,
   the frame is divided by its median ratio to the background (:func:`estimate_gain`), so a
   global brightness jump does not turn the whole frame into foreground. If, even after that,
   more than ``relearn_fraction`` of the frame is foreground (lights switched on, a non-linear
   exposure jump), the model re-learns from the current frame instead of raising a flood of
   false objects.
2. **Ego-motion.** ``apply(..., warp=M)`` warps mean, variance and per-pixel age by the camera
   motion ``M`` (previous -> current frame, see :mod:`vision.video.egomotion`); pixels that just
   came into view start with age 0 and are never foreground until ``warmup`` frames old.
3. **Selective update.** ``freeze`` (bool mask) stops learning under tracked objects, so a person
   standing still is not absorbed into the background within seconds; :meth:`absorb` speeds it
   up under ghosts (see :mod:`vision.video.ghosts`).

Start-up: the first frame, or with ``init_frames`` the per-pixel median of the first frames
(fixed cameras), which keeps people who only walk through out of the model.

Learning rate: a pixel of age ``a`` learns at ``max(rate, 1 / (a + 1))`` (fast start-up, then
``rate`` per frame); once settled, foreground pixels learn ``fg_rate_factor`` times slower and do
not update the variance, which is capped at ``max_sigma``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from vision.video.egomotion import Affine
from vision.video.lighting import estimate_gain

F32Image = npt.NDArray[np.float32]
U8Image = npt.NDArray[np.uint8]
BoolImage = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class BackgroundParams:
    """``rate``: per-frame learning rate (0.01 at 10 fps ~ a 10 s memory). ``k``: foreground
    threshold in standard deviations. ``min_sigma``/``init_sigma``: grey levels (0-255)."""

    rate: float = 0.01
    k: float = 3.0
    min_sigma: float = 6.0
    max_sigma: float = 16.0
    init_sigma: float = 12.0
    warmup: int = 5
    fg_rate_factor: float = 0.1
    absorb_rate: float = 0.1
    relearn_fraction: float = 0.6
    compensate_gain: bool = True
    init_frames: int = 0

    def __post_init__(self) -> None:
        if not 0.0 < self.rate < 1.0:
            raise ValueError(f"rate must be in (0, 1), got {self.rate}")
        if self.k <= 0 or self.min_sigma <= 0 or self.init_sigma <= 0:
            raise ValueError("k, min_sigma and init_sigma must be > 0")
        if not self.min_sigma <= self.init_sigma <= self.max_sigma:
            raise ValueError("need min_sigma <= init_sigma <= max_sigma")
        if self.warmup < 0:
            raise ValueError("warmup must be >= 0")
        if not 0.0 < self.relearn_fraction <= 1.0:
            raise ValueError("relearn_fraction must be in (0, 1]")
        if self.init_frames < 0:
            raise ValueError("init_frames must be >= 0")


@dataclass(frozen=True)
class ForegroundResult:
    """``mask``: ``uint8 [H, W]`` 255 = foreground; ``gain``: the exposure factor divided out;
    ``relearned``: the model was reset on this frame (sudden non-global lighting change)."""

    mask: U8Image
    gain: float
    relearned: bool
    fraction: float


def warp_f32(img: F32Image, m: Affine, interp: int, border: int,
             value: float = 0.0) -> F32Image:
    """``cv2.warpAffine`` of a ``float32 [H, W]`` image onto the same size."""
    h, w = img.shape
    out = cv2.warpAffine(img, m, (w, h), flags=interp, borderMode=border,  # type: ignore[call-overload]
                         borderValue=value)
    return np.asarray(out, dtype=np.float32)


class BackgroundModel:
    """Running-Gaussian background of grey ``uint8 [H, W]`` frames (see module docstring)."""

    def __init__(self, params: BackgroundParams | None = None) -> None:
        self.p = params or BackgroundParams()
        self._mean: F32Image | None = None
        self._var: F32Image | None = None
        self._age: F32Image | None = None
        self._last: tuple[F32Image, float] | None = None  # last gain-compensated frame, gain
        self._boot: list[U8Image] = []  # first frames, for a median start (init_frames)

    @property
    def ready(self) -> bool:
        return self._mean is not None

    def background(self) -> U8Image | None:
        """The current background estimate as grey ``uint8`` (None before the first frame)."""
        if self._mean is None:
            return None
        out: U8Image = np.clip(self._mean, 0, 255).astype(np.uint8)
        return out

    def _init(self, f: F32Image) -> None:
        self._mean = f.copy()
        self._var = np.full_like(f, self.p.init_sigma ** 2)
        self._age = np.zeros_like(f)

    def _warp(self, m: Affine) -> None:
        assert self._mean is not None and self._var is not None and self._age is not None
        mat = m.astype(np.float64)
        self._mean = warp_f32(self._mean, mat, cv2.INTER_LINEAR, cv2.BORDER_REPLICATE)
        self._var = warp_f32(self._var, mat, cv2.INTER_LINEAR, cv2.BORDER_REPLICATE)
        # Exposed pixels get age -1 -> re-initialised from the current frame below.
        self._age = warp_f32(self._age, mat, cv2.INTER_NEAREST, cv2.BORDER_CONSTANT, -1.0)

    def apply(self, grey: U8Image, warp: Affine | None = None,
              freeze: BoolImage | None = None) -> ForegroundResult:
        """Foreground of ``grey`` (``uint8 [H, W]``), then learn from it.

        ``warp``: camera motion previous -> current frame (None for a fixed camera);
        ``freeze``: bool ``[H, W]``, True where the model must not learn on this frame.
        """
        if grey.ndim != 2 or grey.dtype != np.uint8:
            raise ValueError(f"expected grey uint8 [H, W], got {grey.dtype} {grey.shape}")
        f = grey.astype(np.float32)
        if self.p.init_frames and self._mean is None and warp is None:
            # Median of the first frames: whatever merely passes through is not learnt, so it
            # leaves no ghost (a fixed camera only; a moving one changes its view anyway).
            self._boot.append(grey.copy())
            if len(self._boot) < self.p.init_frames:
                return ForegroundResult(np.zeros(grey.shape, np.uint8), 1.0, False, 0.0)
            self._init(np.median(np.stack(self._boot), axis=0).astype(np.float32))
            assert self._age is not None
            self._age[:] = float(self.p.warmup)
            self._boot = []
            return ForegroundResult(np.zeros(grey.shape, np.uint8), 1.0, False, 0.0)
        if self._mean is None or self._mean.shape != f.shape:
            self._init(f)
            return ForegroundResult(np.zeros(grey.shape, np.uint8), 1.0, False, 0.0)
        if warp is not None:
            self._warp(warp)
        assert self._var is not None and self._age is not None
        mean, var, age = self._mean, self._var, self._age
        fresh = age < 0
        if fresh.any():
            mean[fresh] = f[fresh]
            var[fresh] = self.p.init_sigma ** 2
            age[fresh] = 0.0
        mature = age >= self.p.warmup
        gain = estimate_gain(f, mean, mature) if self.p.compensate_gain else 1.0
        fc = f / np.float32(gain) if gain != 1.0 else f
        diff = fc - mean
        d2 = diff * diff
        thr = np.maximum(var, np.float32(self.p.min_sigma ** 2)) * np.float32(self.p.k ** 2)
        fg = (d2 > thr) & mature
        n_mature = int(mature.sum())
        fraction = float(fg.sum()) / n_mature if n_mature else 0.0
        relearned = fraction > self.p.relearn_fraction
        if relearned:
            # A change the gain cannot explain: start over rather than report the whole frame.
            self._mean = fc.copy()
            self._var = np.full_like(f, self.p.init_sigma ** 2)
            return ForegroundResult(np.zeros(grey.shape, np.uint8), gain, True, fraction)
        alpha = np.maximum(np.float32(self.p.rate), (1.0 / (age + 1.0)).astype(np.float32))
        alpha = np.where(fg, np.float32(self.p.rate * self.p.fg_rate_factor), alpha)
        if freeze is not None:
            if freeze.shape != grey.shape:
                raise ValueError(f"freeze mask {freeze.shape} does not match frame {grey.shape}")
            alpha = np.where(freeze & fg, np.float32(0.0), alpha)
        mean += alpha * diff
        # Variance learns from background pixels only, capped: an object that passes while the
        # model is young must not leave a blind spot of inflated variance behind.
        var += np.where(fg, np.float32(0.0), alpha) * (d2 - var)
        np.minimum(var, np.float32(self.p.max_sigma ** 2), out=var)
        age += 1.0
        self._last = (fc, gain)
        mask: U8Image = fg.astype(np.uint8) * np.uint8(255)
        return ForegroundResult(mask, gain, False, fraction)

    def absorb(self, where: BoolImage) -> None:
        """Pull the model towards the last frame under ``where`` (bool ``[H, W]``) at
        ``absorb_rate``: for ghosts, which must fade quickly instead of being tracked."""
        if self._mean is None or self._last is None:
            return
        if where.shape != self._mean.shape:
            raise ValueError(f"mask {where.shape} does not match the model {self._mean.shape}")
        fc, _ = self._last
        self._mean[where] += np.float32(self.p.absorb_rate) * (fc[where] - self._mean[where])
