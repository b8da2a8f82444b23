"""Effective atomic number (Zeff) from a dual-energy pair, and material classes.

Method (as scanner vendors calibrate with step wedges): for each calibration element the
simulated pair (A_L, A_H) = (-ln T_low, -ln T_high) is traced over mass thickness. At a given
high-energy attenuation A_H the log ratio R = A_L / A_H orders the elements by Z; a pixel's
Zeff is interpolated between the two neighbouring element curves, linearly in Z^2.94 (the
photo-electric scaling behind the power-law Zeff). Beam hardening is handled because the
curves depend on A_H. The result is a 2-D table over (A_H, R) looked up with ``cv2.remap``.

Elements with an absorption edge inside the spectrum (lead's K edge at 88 keV) do not follow
the Z order; such an anchor is kept only when its curve lies wholly outside the range of the
ordinary elements (then it is unambiguous), otherwise it is reported in
:attr:`ZeffCalibration.excluded`. With the 160 kVp dual-layer preset lead is excluded - two
polychromatic channels cannot tell lead from Z~9-14 material - while with two monochromatic
energies that straddle the edge (60/100 keV) lead is the only material with R < 1 and is kept.

Coordinate convention: images (H, W), row = y, col = x. Zeff maps are float32, 0 where the
pixel is background (A_H below ``min_attenuation``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache
from typing import Any, Final

import cv2
import numpy as np
from numpy.typing import NDArray

from vision.xray.attenuation_data import ELEMENTS
from vision.xray.materials import ZEFF_EXPONENT, Material, element
from vision.xray.spectra import DualEnergySpectrum, dual_layer_160kv
from vision.xray.transmission import validate_pair

F32 = NDArray[np.float32]

#: Calibration elements: every tabulated element (H..Cu are the ordinary branch; Pb is kept
#: only where unambiguous).
DEFAULT_ANCHORS: Final[tuple[str, ...]] = tuple(ELEMENTS)
_ORDINARY_MAX_Z: Final[int] = 30
_NA: Final[int] = 160
_NR: Final[int] = 512


class MaterialClass(IntEnum):
    """Vendor material classes (pseudo-colour: orange, green, blue)."""

    BACKGROUND = 0
    ORGANIC = 1
    INORGANIC = 2
    METAL = 3
    IMPENETRABLE = 4


#: Zeff class boundaries used by most vendors: organic < 10 <= inorganic/mixed < 18 <= metal.
ORGANIC_MAX_ZEFF: Final[float] = 10.0
INORGANIC_MAX_ZEFF: Final[float] = 18.0


@dataclass(frozen=True, eq=False)
class ZeffCalibration:
    """Lookup table Zeff(A_H, R) for one spectrum.

    Rows are A_H = a_max * (i / (n_rows - 1))^2 (dense at small attenuation), columns are
    R = r_min .. r_max linearly. ``table`` is float32 (n_rows, n_cols). Below
    ``min_reliable_attenuation`` (A_H) the elements are not Z-ordered and the table repeats the
    first ordered row, so Zeff of thinner objects is a coarse guess.
    """

    spectrum_name: str
    a_max: float
    r_min: float
    r_max: float
    table: F32
    anchors: tuple[str, ...]
    excluded: tuple[str, ...]
    min_reliable_attenuation: float

    def lookup(self, a_high: F32, ratio: F32) -> F32:
        """Zeff for arrays of A_H and R (same shape, float32); bilinear, edges clamped."""
        n_rows, n_cols = self.table.shape
        rows = np.sqrt(np.clip(a_high, 0.0, self.a_max) / np.float32(self.a_max))
        rows *= np.float32(n_rows - 1)
        scale = np.float32((n_cols - 1) / (self.r_max - self.r_min))
        cols = (ratio - np.float32(self.r_min)) * scale
        return np.asarray(remap_table(self.table, cols, rows), dtype=np.float32)


def remap_table(table: NDArray[Any], cols: F32, rows: F32) -> NDArray[Any]:
    """Bilinear look-up ``table[rows, cols]`` (fractional indices, edges clamped) for index
    arrays of any shape; ``cv2.remap`` only takes 2-D maps under 32767 per side, so other
    shapes are processed as rows of 4096."""
    shape = cols.shape
    if cols.ndim == 2 and max(shape) < 32767:
        return np.asarray(cv2.remap(table, cols.astype(np.float32), rows.astype(np.float32),
                                    interpolation=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE))
    n = int(np.prod(shape))
    width = 4096
    pad = (-n) % width
    c = np.pad(cols.reshape(-1).astype(np.float32), (0, pad)).reshape(-1, width)
    r = np.pad(rows.reshape(-1).astype(np.float32), (0, pad)).reshape(-1, width)
    chunks = [cv2.remap(table, c[i:i + 8192], r[i:i + 8192], interpolation=cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE) for i in range(0, c.shape[0], 8192)]
    out = np.concatenate(chunks, axis=0)
    tail = out.shape[2:] if out.ndim == 3 else ()
    return np.asarray(out.reshape(-1, *tail)[:n].reshape(*shape, *tail))


def _channel_attenuations(
    material: Material, spectrum: DualEnergySpectrum, mass_thickness: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    mu = spectrum.binned_mass_attenuation(material)
    expo = np.exp(-np.outer(mass_thickness, mu))
    t_low = expo @ spectrum.weights_low
    t_high = expo @ spectrum.weights_high
    tiny = 1e-300
    return -np.log(np.maximum(t_low, tiny)), -np.log(np.maximum(t_high, tiny))


def anchor_ratio_curves(
    spectrum: DualEnergySpectrum, a_grid: NDArray[np.float64], anchors: Sequence[str]
) -> dict[str, NDArray[np.float64]]:
    """R = A_L / A_H of each anchor element at the high-energy attenuations ``a_grid``."""
    mass = np.geomspace(1e-5, 1e4, 4000)  # g/cm^2
    curves: dict[str, NDArray[np.float64]] = {}
    for sym in anchors:
        a_low, a_high = _channel_attenuations(element(sym, 1.0), spectrum, mass)
        ok = np.isfinite(a_low) & (a_low < 600) & (a_high > 0)
        ratio = a_low[ok] / a_high[ok]
        curves[sym] = np.interp(a_grid, a_high[ok], ratio)
    return curves


@lru_cache(maxsize=16)
def calibrate(
    spectrum: DualEnergySpectrum, anchors: tuple[str, ...] = DEFAULT_ANCHORS, a_max: float = 11.5
) -> ZeffCalibration:
    """Build the Zeff table for ``spectrum`` from the anchor elements (cached)."""
    rows = a_max * (np.arange(_NA, dtype=np.float64) / (_NA - 1)) ** 2
    rows[0] = 1e-4  # R is defined in the thin-object limit
    curves = anchor_ratio_curves(spectrum, rows, anchors)
    z_of = {s: ELEMENTS[s][0] for s in anchors}
    ordinary = sorted((s for s in anchors if z_of[s] <= _ORDINARY_MAX_Z), key=z_of.__getitem__)
    if len(ordinary) < 2:
        raise ValueError("need at least two calibration elements with Z <= 30")
    ord_r = np.stack([curves[s] for s in ordinary])  # (K, NA)
    steps = np.diff(ord_r, axis=0)
    mono = (steps > 0).all(axis=0) | (steps < 0).all(axis=0)
    if not mono.any() or not mono[-1]:
        raise ValueError(f"calibration of {spectrum.name}: R is not monotonic in Z")
    # Thin objects can fall outside the Z-ordered regime (e.g. photo-electric tails of a MeV
    # beam); rows below the first fully ordered one reuse that row.
    first = int(len(mono) - np.argmin(mono[::-1])) if not mono.all() else 0
    for sym in list(curves):
        curves[sym][:first] = curves[sym][first]
    ord_r = np.stack([curves[s] for s in ordinary])
    lo_env, hi_env = ord_r.min(axis=0), ord_r.max(axis=0)
    used: list[str] = list(ordinary)
    excluded: list[str] = []
    for sym in (s for s in anchors if z_of[s] > _ORDINARY_MAX_Z):
        r = curves[sym]
        (used if ((r < lo_env).all() or (r > hi_env).all()) else excluded).append(sym)
    r_all = np.stack([curves[s] for s in used])
    r_min = float(r_all.min() * 0.9)
    r_max = float(r_all.max() * 1.1)
    cols = np.linspace(r_min, r_max, _NR)
    p = np.array([z_of[s] ** ZEFF_EXPONENT for s in used])
    table = np.empty((_NA, _NR), dtype=np.float32)
    for i in range(_NA):
        order = np.argsort(r_all[:, i])
        table[i] = np.interp(cols, r_all[order, i], p[order]) ** (1.0 / ZEFF_EXPONENT)
    return ZeffCalibration(
        spectrum_name=spectrum.name, a_max=a_max, r_min=r_min, r_max=r_max, table=table,
        anchors=tuple(used), excluded=tuple(excluded), min_reliable_attenuation=float(rows[first]),
    )


def log_attenuations(low: F32, high: F32) -> tuple[F32, F32]:
    """(A_L, A_H) = (-ln low, -ln high) as float32, inputs already validated."""
    return -np.log(low), -np.log(high)


def zeff_map(
    low: NDArray[np.generic],
    high: NDArray[np.generic],
    spectrum: DualEnergySpectrum | None = None,
    min_attenuation: float = 0.02,
) -> F32:
    """Zeff per pixel (float32 (H, W)) from low/high transmissions; 0 = background.

    Raises ``ValueError`` on bad input (see :func:`~vision.xray.transmission.validate_pair`).
    """
    lo, hi = validate_pair(low, high)
    cal = calibrate(spectrum if spectrum is not None else dual_layer_160kv())
    a_low, a_high = log_attenuations(lo, hi)
    ratio = a_low / np.maximum(a_high, np.float32(1e-6))
    z = cal.lookup(a_high, ratio)
    z[a_high < np.float32(min_attenuation)] = 0.0
    return z


def material_classes(
    zeff: F32,
    high: NDArray[np.generic],
    min_attenuation: float = 0.02,
    opaque_transmission: float = 0.003,
) -> NDArray[np.uint8]:
    """Map Zeff and the high-energy transmission to :class:`MaterialClass` codes (uint8 (H, W)).

    Background where A_H < ``min_attenuation``; impenetrable where T_high < ``opaque_transmission``
    (too little signal for any material statement).
    """
    if zeff.shape != np.shape(high):
        raise ValueError(f"zeff and high shapes differ: {zeff.shape} vs {np.shape(high)}")
    t_high = np.asarray(high, dtype=np.float32)
    out = np.full(zeff.shape, MaterialClass.METAL, dtype=np.uint8)
    out[zeff < INORGANIC_MAX_ZEFF] = MaterialClass.INORGANIC
    out[zeff < ORGANIC_MAX_ZEFF] = MaterialClass.ORGANIC
    out[t_high < opaque_transmission] = MaterialClass.IMPENETRABLE
    out[-np.log(np.maximum(t_high, 1e-6)) < min_attenuation] = MaterialClass.BACKGROUND
    return out
