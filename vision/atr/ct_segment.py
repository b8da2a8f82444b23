"""3-D threat segmentation of a CT volume: material windows + connected components.

Volume axes (S, H, W) = (belt direction, height from the top, across the belt) as written by
:mod:`datasets.synth.ct_scene`; values are CT numbers (HU-like: air -1000, water 0) and,
for dual-energy CT, a Zeff volume of the same shape (0 = air).

Windows (a voxel may fall in one): ``metal`` (Zeff >= 15 and CT >= 200: steel, copper,
lead - guns, blades, detonators) and ``dense_organic`` (6.5 <= Zeff <= 9 and CT >= 100: the
density and Zeff band of explosives; water-like liquids fall just below it). Without a Zeff
volume only the CT thresholds apply (``metal``: CT >= 1500). Each window is labelled with
26-connectivity (:func:`scipy.ndimage.label`); components smaller than ``min_voxels`` are
dropped. Boxes are voxel index ranges, end exclusive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class CTWindow:
    name: str
    ct_min: float
    zeff_min: float | None = None
    zeff_max: float | None = None


DUAL_ENERGY_WINDOWS: tuple[CTWindow, ...] = (
    CTWindow("metal", 200.0, 15.0, None),
    CTWindow("dense_organic", 100.0, 6.5, 9.0),
)
SINGLE_ENERGY_WINDOWS: tuple[CTWindow, ...] = (CTWindow("metal", 1500.0),)


@dataclass(frozen=True)
class CTObject:
    """One segmented component: window name, voxel box (s0, h0, w0, s1, h1, w1), size."""

    window: str
    box_voxels: tuple[int, int, int, int, int, int]
    voxels: int
    mean_ct: float
    mean_zeff: float | None

    def box_cm(self, voxel_cm: float) -> tuple[float, ...]:
        return tuple(round(v * voxel_cm, 2) for v in self.box_voxels)

    def mip_box(self) -> tuple[float, float, float, float]:
        """Box in the top-view MIP (max over height, image rows = s, columns = w): xyxy."""
        s0, _, w0, s1, _, w1 = self.box_voxels
        return (float(w0), float(s0), float(w1), float(s1))


def window_mask(volume: F32, zeff: F32 | None, window: CTWindow) -> npt.NDArray[np.bool_]:
    mask = volume >= np.float32(window.ct_min)
    if zeff is not None:
        if window.zeff_min is not None:
            mask &= zeff >= np.float32(window.zeff_min)
        if window.zeff_max is not None:
            mask &= zeff <= np.float32(window.zeff_max)
    return np.asarray(mask, dtype=bool)


def segment(volume: F32, zeff: F32 | None = None, min_voxels: int = 4,
            windows: tuple[CTWindow, ...] | None = None) -> list[CTObject]:
    """Components of every window, largest first."""
    vol = np.asarray(volume, dtype=np.float32)
    if vol.ndim != 3:
        raise ValueError(f"CT volume must be (S, H, W), got {vol.shape}")
    if zeff is not None and np.shape(zeff) != vol.shape:
        raise ValueError(f"zeff {np.shape(zeff)} and volume {vol.shape} shapes differ")
    if min_voxels < 1:
        raise ValueError("min_voxels must be >= 1")
    z = np.asarray(zeff, dtype=np.float32) if zeff is not None else None
    wins = windows if windows is not None else (
        DUAL_ENERGY_WINDOWS if z is not None else SINGLE_ENERGY_WINDOWS)
    out: list[CTObject] = []
    structure = np.ones((3, 3, 3), dtype=bool)
    for win in wins:
        labels, n = ndimage.label(window_mask(vol, z, win), structure=structure)
        if n == 0:
            continue
        sizes = np.bincount(labels.ravel())
        for k, sl in enumerate(ndimage.find_objects(labels), start=1):
            if sl is None or sizes[k] < min_voxels:
                continue
            comp = labels[sl] == k
            box = (sl[0].start, sl[1].start, sl[2].start, sl[0].stop, sl[1].stop, sl[2].stop)
            out.append(CTObject(win.name, box, int(sizes[k]), float(vol[sl][comp].mean()),
                                float(z[sl][comp].mean()) if z is not None else None))
    return sorted(out, key=lambda o: -o.voxels)


def mip_top(volume: F32) -> F32:
    """Maximum-intensity projection over height: (S, W) float32 (a top view)."""
    return np.asarray(np.asarray(volume, dtype=np.float32).max(axis=1), dtype=np.float32)
