"""Parallel-beam CT per slice: sinograms (scikit-image ``radon``), quantum noise, filtered
back-projection (``iradon``), CT numbers, error metrics and reviewer projections.

Units: mu in 1/cm, voxel size in cm, sinogram values are dimensionless line integrals
(sum of mu * path length). Volumes are (S, H, W) float32; each slice is reconstructed
independently. Non-square slices are zero-padded to a centred square for the transform and
cropped back afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from skimage.metrics import structural_similarity
from skimage.transform import iradon, radon

F32 = NDArray[np.float32]


def default_angles(n: int = 90) -> NDArray[np.float64]:
    """``n`` projection angles in degrees over [0, 180)."""
    if n < 2:
        raise ValueError("need at least 2 projection angles")
    return np.linspace(0.0, 180.0, n, endpoint=False)


def _pad_square(img: F32) -> tuple[F32, tuple[int, int]]:
    h, w = img.shape
    side = max(h, w)
    out = np.zeros((side, side), dtype=np.float32)
    oy, ox = (side - h) // 2, (side - w) // 2
    out[oy:oy + h, ox:ox + w] = img
    return out, (oy, ox)


def forward_project(mu: F32, voxel_cm: float, angles_deg: NDArray[np.float64]) -> F32:
    """Sinograms of every slice: float32 (S, n_detectors, n_angles), line integrals."""
    if mu.ndim != 3:
        raise ValueError("mu must be a volume (S, H, W)")
    sinos = []
    for sl in mu:
        sq, _ = _pad_square(np.asarray(sl, dtype=np.float32))
        sino = radon(sq, theta=angles_deg, circle=False)  # type: ignore[no-untyped-call]
        sinos.append(sino * voxel_cm)
    return np.asarray(np.stack(sinos), dtype=np.float32)


def add_quantum_noise(sinograms: F32, photons: float, rng: np.random.Generator) -> F32:
    """Poisson noise for ``photons`` incident quanta per ray: p -> -ln(N / photons)."""
    if photons <= 0:
        raise ValueError("photons must be > 0")
    expected = photons * np.exp(-sinograms.astype(np.float64))
    counts = np.maximum(rng.poisson(expected), 1)
    return np.asarray(-np.log(counts / photons), dtype=np.float32)


def reconstruct_fbp(
    sinograms: F32,
    angles_deg: NDArray[np.float64],
    voxel_cm: float,
    slice_shape: tuple[int, int],
    filter_name: str = "ramp",
) -> F32:
    """Filtered back-projection of (S, n_det, n_angles) sinograms to mu (1/cm), (S, H, W)."""
    h, w = slice_shape
    side = max(h, w)
    oy, ox = (side - h) // 2, (side - w) // 2
    out = np.empty((sinograms.shape[0], h, w), dtype=np.float32)
    for k, sino in enumerate(sinograms):
        rec = iradon(sino / voxel_cm, theta=angles_deg,  # type: ignore[no-untyped-call]
                     output_size=side, filter_name=filter_name, circle=False)
        out[k] = rec[oy:oy + h, ox:ox + w]
    return out


def ct_numbers(mu: F32, mu_water: float) -> F32:
    """CT numbers (Hounsfield-like): 1000 * (mu - mu_water) / mu_water; air -> -1000."""
    if mu_water <= 0:
        raise ValueError("mu_water must be > 0")
    return np.asarray(1000.0 * (mu - mu_water) / mu_water, dtype=np.float32)


@dataclass(frozen=True)
class SliceErrors:
    """Per-slice reconstruction error: RMSE (units of the volumes) and SSIM."""

    rmse: NDArray[np.float64]
    ssim: NDArray[np.float64]

    @property
    def mean_rmse(self) -> float:
        return float(self.rmse.mean())

    @property
    def mean_ssim(self) -> float:
        return float(self.ssim.mean())


def slice_errors(recon: F32, truth: F32, data_range: float | None = None) -> SliceErrors:
    """RMSE and SSIM of every slice of ``recon`` against ``truth`` (same shape)."""
    if recon.shape != truth.shape or recon.ndim != 3:
        raise ValueError(f"volumes must have the same 3-D shape: {recon.shape} vs {truth.shape}")
    rng = float(truth.max() - truth.min()) if data_range is None else data_range
    rng = rng if rng > 0 else 1.0
    rmse = np.sqrt(((recon.astype(np.float64) - truth) ** 2).mean(axis=(1, 2)))
    win = min(7, *truth.shape[1:])
    win = win if win % 2 == 1 else win - 1
    ssim = np.array([structural_similarity(t, r, data_range=rng,  # type: ignore[no-untyped-call]
                                           win_size=win)
                     for r, t in zip(recon.astype(np.float64), truth.astype(np.float64),
                                     strict=True)])
    return SliceErrors(rmse, ssim)


def mip(volume: F32, axis: int = 1) -> F32:
    """Maximum-intensity projection along ``axis`` (default: height -> top view)."""
    return np.asarray(volume.max(axis=axis), dtype=np.float32)


def window_to_uint8(image: F32, low: float, high: float) -> NDArray[np.uint8]:
    """Map [low, high] linearly to 0..255 (clipped) for display."""
    if high <= low:
        raise ValueError("window needs high > low")
    scaled = (image.astype(np.float32) - low) * (255.0 / (high - low))
    return np.asarray(np.clip(np.rint(scaled), 0, 255), dtype=np.uint8)
