"""CT volumes of synthetic scenes: voxelise the scene, scan it with dual-energy CT.

The phantom comes from :func:`datasets.synth.geometry.voxelise` (axes: belt direction y,
height from the top, x; cubic voxels of ``voxel_cm``), so every CT slice is a (height, width)
plane as in a baggage CT gantry, and the MIP over height is a top view.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from datasets.synth.geometry import Scene, voxelise
from vision.ct.dual_energy import CTScan, simulate_ct
from vision.ct.phantom import CTPhantom


@dataclass(frozen=True)
class SceneCT:
    """A scene's phantom and its simulated scan."""

    phantom: CTPhantom
    scan: CTScan


def scene_phantom(scene: Scene, voxel_cm: float = 1.5) -> CTPhantom:
    """Voxel phantom (material index + density) of a scene."""
    mat, den, mats = voxelise(scene, voxel_cm)
    return CTPhantom(mat, den, mats, voxel_cm)


def render_ct(
    scene: Scene,
    rng: np.random.Generator,
    voxel_cm: float = 1.5,
    n_angles: int = 90,
    photons: float | None = 2.0e5,
    energies_kev: tuple[float, float] = (60.0, 100.0),
) -> SceneCT:
    """Phantom and dual-energy CT scan (CT numbers, Zeff, error metrics) of ``scene``."""
    phantom = scene_phantom(scene, voxel_cm)
    scan = simulate_ct(phantom, energies_kev, n_angles, photons, rng)
    return SceneCT(phantom, scan)
