"""One-sided Compton backscatter imaging (single-scatter model).

A pencil beam of energy ``energy_kev`` enters each pixel column from the scanner side and
travels in depth; every voxel scatters back in proportion to its electron density times the
Klein-Nishina cross-section at 180 degrees; the scattered photons (energy E' =
E / (1 + 2E / 511 keV)) return along the same path. The signal of a pixel is

    S = sum_k n_e,k dz exp(-sum_{j<k} (mu_in,j + mu_out,j) dz) * (1 - exp(-(mu_in + mu_out)_k dz))
        / ((mu_in + mu_out)_k dz)

(the last factor is the self-attenuation inside voxel k). Low-Z material near the surface is
bright (much Compton scattering, little absorption); metals are dark (they absorb both ways),
and a thin steel panel only dims what lies behind it - so organic packages behind body panels
stand out.

Volumes are (H, W, D): image rows, image columns and depth from the scanner side in voxels of
``voxel_depth_cm`` cm. Material index 0 is empty; index k is ``materials[k - 1]``.
Output images are float32 (H, W) normalised so that a semi-infinite block of water reads 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from vision.xray.materials import Material, get_material

F32 = NDArray[np.float32]
ELECTRON_REST_KEV = 511.0


def backscatter_energy(energy_kev: float) -> float:
    """Energy (keV) of a photon Compton-scattered through 180 degrees."""
    return energy_kev / (1.0 + 2.0 * energy_kev / ELECTRON_REST_KEV)


def _signal(
    n_e: F32, mu_sum: F32, dz: float
) -> F32:
    """Single-scatter signal along the last axis (see module docstring)."""
    tau = mu_sum * np.float32(dz)
    before = np.cumsum(tau, axis=-1) - tau  # attenuation in front of each voxel
    with np.errstate(divide="ignore", invalid="ignore"):
        self_att = np.where(tau > 1e-6, (1.0 - np.exp(-tau)) / np.maximum(tau, 1e-12), 1.0)
    contrib = n_e * np.float32(dz) * np.exp(-before) * self_att
    return np.asarray(contrib.sum(axis=-1), dtype=np.float32)


def water_reference(energy_kev: float, voxel_depth_cm: float) -> float:
    """Signal of a semi-infinite water block (normalisation constant)."""
    water = get_material("water")
    e_out = backscatter_energy(energy_kev)
    mu = float(water.mass_attenuation([energy_kev])[0] + water.mass_attenuation([e_out])[0])
    depth = np.full((1, 1, int(np.ceil(60.0 / voxel_depth_cm))), 1.0, dtype=np.float32)
    n_e = depth * np.float32(water.electrons_per_gram)
    return float(_signal(n_e, depth * np.float32(mu), voxel_depth_cm)[0, 0])


def simulate_backscatter(
    material_index: NDArray[np.uint8],
    density: F32,
    materials: Sequence[Material],
    voxel_depth_cm: float,
    energy_kev: float = 120.0,
    photons: float | None = 400.0,
    blur_sigma_px: float = 0.8,
    rng: np.random.Generator | None = None,
) -> F32:
    """Backscatter image float32 (H, W) of a (H, W, D) volume; 1 = semi-infinite water.

    ``photons`` is the number of detected scattered quanta that a water pixel yields (Poisson
    noise); ``None`` gives the noise-free image.
    """
    if material_index.ndim != 3 or material_index.dtype != np.uint8:
        raise ValueError("material_index must be a uint8 volume (H, W, D)")
    if density.shape != material_index.shape:
        raise ValueError("density must have the shape of material_index")
    if int(material_index.max(initial=0)) > len(materials):
        raise ValueError("material_index refers to a material that is not listed")
    if voxel_depth_cm <= 0 or energy_kev <= 0:
        raise ValueError("voxel depth and energy must be > 0")
    e_out = backscatter_energy(energy_kev)
    mu_rho = np.array([0.0] + [float(m.mass_attenuation([energy_kev])[0]
                                     + m.mass_attenuation([e_out])[0]) for m in materials],
                      dtype=np.float32)
    electrons = np.array([0.0] + [m.electrons_per_gram for m in materials], dtype=np.float32)
    rho = density.astype(np.float32, copy=False)
    img = _signal(electrons[material_index] * rho, mu_rho[material_index] * rho, voxel_depth_cm)
    img /= np.float32(water_reference(energy_kev, voxel_depth_cm))
    if blur_sigma_px > 0:
        img = np.asarray(cv2.GaussianBlur(img, (0, 0), blur_sigma_px), dtype=np.float32)
    if photons is not None:
        gen = rng if rng is not None else np.random.default_rng()
        img = gen.poisson(np.maximum(img, 0.0) * photons).astype(np.float32) / np.float32(photons)
    return np.asarray(img, dtype=np.float32)


def backscatter_to_uint8(image: F32, white_level: float = 1.0) -> NDArray[np.uint8]:
    """Display mapping: 0 -> black, ``white_level`` -> white, gamma 0.7 (uint8 (H, W))."""
    scaled = np.clip(image / np.float32(white_level), 0.0, 1.0) ** np.float32(0.7)
    return np.asarray(np.rint(scaled * 255.0), dtype=np.uint8)
