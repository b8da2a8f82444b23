"""Voxel phantoms: material index and density per voxel.

Volume axes are (slice, row, col). For baggage CT the slice axis runs along the belt and each
slice is a (height, width) plane - the convention of :func:`datasets.synth.geometry.voxelise`.
Voxels are cubes of ``voxel_cm`` cm. Material index 0 is empty (air, mu = 0); index k refers
to ``materials[k - 1]``. Densities are g/cm^3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vision.xray.materials import Material

F32 = NDArray[np.float32]


@dataclass(frozen=True)
class CTPhantom:
    """A voxel phantom (see module docstring)."""

    material_index: NDArray[np.uint8]
    density: F32
    materials: tuple[Material, ...]
    voxel_cm: float

    def __post_init__(self) -> None:
        if self.material_index.ndim != 3 or self.material_index.dtype != np.uint8:
            raise ValueError("material_index must be a uint8 volume (S, H, W)")
        if self.density.shape != self.material_index.shape or self.density.dtype != np.float32:
            raise ValueError("density must be float32 with the shape of material_index")
        if int(self.material_index.max(initial=0)) > len(self.materials):
            raise ValueError("material_index refers to a material that is not listed")
        if not np.isfinite(self.density).all() or (self.density < 0).any():
            raise ValueError("density must be finite and >= 0 g/cm^3")
        if self.voxel_cm <= 0:
            raise ValueError("voxel_cm must be > 0")

    @property
    def shape(self) -> tuple[int, int, int]:
        s = self.material_index.shape
        return int(s[0]), int(s[1]), int(s[2])

    def _per_material(self, values: list[float]) -> F32:
        lut = np.array([0.0, *values], dtype=np.float32)
        return np.asarray(lut[self.material_index], dtype=np.float32)

    def zeff(self) -> F32:
        """Power-law effective Z per voxel (0 where empty), float32."""
        return self._per_material([m.zeff for m in self.materials])

    def linear_attenuation(self, energy_kev: float) -> F32:
        """mu (1/cm) per voxel at a monochromatic energy, float32."""
        mu_rho = self._per_material([float(m.mass_attenuation([energy_kev])[0])
                                     for m in self.materials])
        return np.asarray(mu_rho * self.density, dtype=np.float32)
