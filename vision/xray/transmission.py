"""Beer-Lambert dual-energy transmission, detector model and 16-bit raw encoding.

Conventions: images are (H, W) arrays indexed [row, col] = [y, x]; the beam runs along the
viewing axis through each pixel. Transmissions are float32 in (0, 1], 1 = unattenuated (air).
Per-material areal densities ("mass thickness") are in g/cm^2.

For every pixel and energy bin b the line integral is ``A_b = sum_m (mu/rho)_{m,b} t_m`` and a
channel's transmission is ``T = sum_b w_b exp(-A_b)`` with the channel weights of the
:class:`~vision.xray.spectra.DualEnergySpectrum` (polychromatic Beer-Lambert).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from vision.xray.materials import Material
from vision.xray.spectra import DualEnergySpectrum, dual_layer_160kv

F32 = NDArray[np.float32]
RawScheme = Literal["linear", "log"]


@dataclass(frozen=True)
class MaterialStack:
    """Per-material mass-thickness maps of one projection.

    Attributes:
        materials: the M materials, in the order of the first axis of ``mass_thickness``.
        mass_thickness: float32 (M, H, W), g/cm^2, finite and >= 0.
    """

    materials: tuple[Material, ...]
    mass_thickness: F32

    def __post_init__(self) -> None:
        mt = self.mass_thickness
        if not isinstance(mt, np.ndarray) or mt.ndim != 3:
            raise ValueError("mass_thickness must be a 3-D array (M, H, W)")
        if mt.dtype != np.float32:
            raise ValueError(f"mass_thickness must be float32, got {mt.dtype}")
        if mt.shape[0] != len(self.materials):
            raise ValueError(
                f"mass_thickness has {mt.shape[0]} maps for {len(self.materials)} materials"
            )
        if mt.size:
            lo, hi = float(mt.min()), float(mt.max())  # NaN propagates through min/max
            if not (np.isfinite(lo) and np.isfinite(hi)) or lo < 0:
                raise ValueError("mass_thickness must be finite and >= 0 g/cm^2")

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.mass_thickness.shape[1]), int(self.mass_thickness.shape[2])


@dataclass(frozen=True)
class DetectorModel:
    """Detector blur and noise.

    Attributes:
        photons_low / photons_high: detected quanta per pixel for an unattenuated beam; the
            quantum noise of a pixel with transmission T has variance T / photons.
        electronic_sigma: additive Gaussian noise, as a fraction of full scale.
        blur_sigma_px: Gaussian point-spread function sigma in pixels (0 = none).
        floor: smallest reported transmission (dynamic range of the read-out).
    """

    photons_low: float = 2.0e4
    photons_high: float = 4.0e4
    electronic_sigma: float = 2.0e-4
    blur_sigma_px: float = 0.7
    floor: float = 1.0e-5

    def __post_init__(self) -> None:
        if self.photons_low <= 0 or self.photons_high <= 0:
            raise ValueError("photon counts must be > 0")
        if self.electronic_sigma < 0 or self.blur_sigma_px < 0:
            raise ValueError("noise and blur must be >= 0")
        if not 0 < self.floor < 1:
            raise ValueError("floor must be in (0, 1)")


DEFAULT_DETECTOR = DetectorModel()


def attenuation_matrix(
    materials: Sequence[Material], spectrum: DualEnergySpectrum
) -> NDArray[np.float32]:
    """(B, M) float32 bin-averaged mu/rho (cm^2/g) for the materials."""
    cols = [spectrum.binned_mass_attenuation(m) for m in materials]
    return np.ascontiguousarray(np.stack(cols, axis=1), dtype=np.float32)


def ideal_transmissions(
    stack: MaterialStack, spectrum: DualEnergySpectrum
) -> tuple[F32, F32]:
    """Noise-free (low, high) transmissions, float32 (H, W) in (0, 1]."""
    h, w = stack.shape
    n = h * w
    mu = attenuation_matrix(stack.materials, spectrum)  # (B, M)
    flat = stack.mass_thickness.reshape(len(stack.materials), n)
    weights = np.stack([spectrum.weights_low, spectrum.weights_high]).astype(np.float32)
    out = np.empty((2, n), dtype=np.float32)
    # Chunks keep the (B, chunk) line-integral block in cache: ~2x faster than one big sgemm.
    for s in range(0, n, _CHUNK):
        lines = mu @ flat[:, s : s + _CHUNK]
        np.negative(lines, out=lines)
        np.exp(lines, out=lines)
        np.matmul(weights, lines, out=out[:, s : s + _CHUNK])
    np.clip(out, 0.0, 1.0, out=out)
    return out[0].reshape(h, w), out[1].reshape(h, w)


_CHUNK = 16384


def apply_detector(
    transmission: F32, photons: float, detector: DetectorModel, rng: np.random.Generator
) -> F32:
    """Blur, add quantum + electronic noise and clip one channel (float32 (H, W))."""
    t: F32 = transmission
    if detector.blur_sigma_px > 0:
        t = np.asarray(
            cv2.GaussianBlur(t, (0, 0), detector.blur_sigma_px, borderType=cv2.BORDER_REPLICATE),
            dtype=np.float32,
        )
    sigma = np.sqrt(t / np.float32(photons) + np.float32(detector.electronic_sigma**2))
    noise = rng.standard_normal(t.shape, dtype=np.float32)
    out: F32 = np.asarray(t + sigma * noise, dtype=np.float32)
    np.clip(out, detector.floor, 1.0, out=out)
    return out


def simulate_dual_energy(
    stack: MaterialStack,
    spectrum: DualEnergySpectrum | None = None,
    detector: DetectorModel | None = DEFAULT_DETECTOR,
    rng: np.random.Generator | None = None,
) -> tuple[F32, F32]:
    """Render (low, high) float32 transmissions in [floor, 1] for a material stack.

    ``spectrum`` defaults to :func:`~vision.xray.spectra.dual_layer_160kv`; ``detector=None``
    returns the ideal, noise-free transmissions. ``rng`` seeds the noise (a fresh,
    unseeded generator if omitted).
    """
    spec = spectrum if spectrum is not None else dual_layer_160kv()
    low, high = ideal_transmissions(stack, spec)
    if detector is None:
        return low, high
    gen = rng if rng is not None else np.random.default_rng()
    return (
        apply_detector(low, detector.photons_low, detector, gen),
        apply_detector(high, detector.photons_high, detector, gen),
    )


def encode_raw16(
    transmission: NDArray[np.floating[Any]], scheme: RawScheme = "linear", log_range: float = 12.0
) -> NDArray[np.uint16]:
    """Encode transmissions as uint16 raw detector values.

    ``linear``: value = round(65535 * T) (baggage; 1 LSB = 1.5e-5 of the open beam).
    ``log``: value = round(65535 * (1 - A / log_range)), A = -ln T, for the large dynamic range
    of cargo scans (T down to exp(-log_range)).
    """
    t = np.clip(np.asarray(transmission, dtype=np.float64), 0.0, 1.0)
    if scheme == "linear":
        v = np.rint(t * 65535.0)
    elif scheme == "log":
        a = -np.log(np.maximum(t, np.exp(-log_range)))
        v = np.rint(65535.0 * (1.0 - a / log_range))
    else:
        raise ValueError(f"unknown raw scheme {scheme!r} (use 'linear' or 'log')")
    return np.asarray(v, dtype=np.uint16)


def decode_raw16(
    raw: NDArray[np.uint16], scheme: RawScheme = "linear", log_range: float = 12.0
) -> F32:
    """Inverse of :func:`encode_raw16`; returns float32 transmissions in (0, 1]."""
    if raw.dtype != np.uint16:
        raise ValueError(f"raw dual-energy data must be uint16, got {raw.dtype}")
    v = raw.astype(np.float32) / np.float32(65535.0)
    if scheme == "linear":
        out = v
    elif scheme == "log":
        out = np.exp(-(1.0 - v) * np.float32(log_range))
    else:
        raise ValueError(f"unknown raw scheme {scheme!r} (use 'linear' or 'log')")
    return np.clip(out, np.float32(1e-6), np.float32(1.0)).astype(np.float32)


def validate_pair(low: NDArray[np.generic], high: NDArray[np.generic]) -> tuple[F32, F32]:
    """Check a (low, high) transmission pair and return float32 copies clipped to (0, 1].

    Raises ``ValueError`` naming the problem: wrong dtype (integers must be decoded first),
    mismatched or non-2-D shapes, NaN/inf, negative values or values far above 1.
    """
    for name, arr in (("low", low), ("high", high)):
        if not isinstance(arr, np.ndarray):
            raise ValueError(f"{name}-energy image must be a numpy array")
        if not np.issubdtype(arr.dtype, np.floating):
            raise ValueError(
                f"{name}-energy image has dtype {arr.dtype}; expected float transmissions "
                "in [0, 1] (decode uint16 raw data with decode_raw16 first)"
            )
        if arr.ndim != 2:
            raise ValueError(f"{name}-energy image must be 2-D (H, W), got shape {arr.shape}")
        if arr.size == 0:
            raise ValueError(f"{name}-energy image is empty")
    if low.shape != high.shape:
        raise ValueError(f"low/high shapes differ: {low.shape} vs {high.shape}")
    for name, arr in (("low", low), ("high", high)):
        view = np.asarray(arr, dtype=np.float32)
        lo_v, hi_v = float(view.min()), float(view.max())  # NaN propagates through min/max
        if not (np.isfinite(lo_v) and np.isfinite(hi_v)):
            raise ValueError(f"{name}-energy image contains NaN or infinite values")
        if lo_v < 0:
            raise ValueError(f"{name}-energy image has negative intensities")
        if hi_v > 1.5:
            raise ValueError(
                f"{name}-energy image has values above 1.5; expected transmissions in [0, 1]"
            )
    lo = np.clip(low.astype(np.float32, copy=False), 1e-6, 1.0)
    hi = np.clip(high.astype(np.float32, copy=False), 1e-6, 1.0)
    return lo, hi
