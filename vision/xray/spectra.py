"""Detector-weighted X-ray spectra for dual-energy transmission imaging.

A :class:`DualEnergySpectrum` describes how the two detector channels (low, high) weight
photon energies. Energies are grouped into bins so that a transmission image costs one
``exp`` per bin and pixel; inside a bin mu/rho is averaged over a fine 0.5 keV grid with the
bin's detected weight. Calibration (:mod:`vision.xray.zeff`) uses the same bins, so the
binning is consistent everywhere.

Presets (functions return the same object on every call, so caches keyed on the spectrum hit):

* :func:`dual_layer_160kv` - baggage scanner: tungsten tube at 160 kVp (Kramers' law,
  2 mm Al filtration), energy-integrating dual-layer CsI detector (0.3 mm front = low channel,
  0.5 mm Cu interlayer, 4 mm rear = high channel). Mean detected energies ~57 / ~99 keV.
* :func:`two_effective_energies` - two monochromatic effective energies (default 60 / 100 keV),
  the textbook model without beam hardening.
* :func:`linac_dual_energy` - cargo scanner: interlaced 4 MV / 6 MV linac pulses (Kramers-like
  bremsstrahlung shape), thick energy-integrating detector.

Units: keV throughout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from vision.xray.materials import Material, csi_linear_attenuation, get_material

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class DualEnergySpectrum:
    """Binned detector response of a dual-energy system.

    Attributes:
        name: preset name, recorded in dataset metadata.
        kind: ``"polychromatic"`` or ``"monochromatic"``.
        energies_kev: (B,) weighted mean energy of each bin.
        weights_low / weights_high: (B,) detected-signal weight of each bin, each summing to 1.
        fine_energies_kev: (F,) energies of the fine grid used to average mu/rho in a bin.
        fine_bin: (F,) bin index of each fine energy.
        fine_weights: (F,) averaging weight (low + high detected signal) of each fine energy.
    """

    name: str
    kind: str
    energies_kev: FloatArray
    weights_low: FloatArray
    weights_high: FloatArray
    fine_energies_kev: FloatArray
    fine_bin: NDArray[np.int64]
    fine_weights: FloatArray
    _mu_cache: dict[str, FloatArray] = field(default_factory=dict, repr=False)

    @property
    def n_bins(self) -> int:
        return int(self.energies_kev.shape[0])

    @property
    def mean_energy_low(self) -> float:
        return float(np.sum(self.weights_low * self.energies_kev))

    @property
    def mean_energy_high(self) -> float:
        return float(np.sum(self.weights_high * self.energies_kev))

    def binned_mass_attenuation(self, material: Material) -> FloatArray:
        """(B,) bin-averaged mu/rho (cm^2/g) of ``material`` (cached per material name)."""
        cached = self._mu_cache.get(material.name)
        if cached is not None:
            return cached
        mu = material.mass_attenuation(self.fine_energies_kev)
        num = np.bincount(self.fine_bin, weights=mu * self.fine_weights, minlength=self.n_bins)
        den = np.bincount(self.fine_bin, weights=self.fine_weights, minlength=self.n_bins)
        out: FloatArray = np.asarray(num / np.maximum(den, 1e-300), dtype=np.float64)
        self._mu_cache[material.name] = out
        return out


def _from_fine(
    name: str, energies: FloatArray, w_low: FloatArray, w_high: FloatArray, edges: FloatArray
) -> DualEnergySpectrum:
    bins = np.clip(np.searchsorted(edges, energies, side="right") - 1, 0, len(edges) - 2)
    n = len(edges) - 1
    wl = np.bincount(bins, weights=w_low, minlength=n)
    wh = np.bincount(bins, weights=w_high, minlength=n)
    both = w_low / w_low.sum() + w_high / w_high.sum()
    den = np.bincount(bins, weights=both, minlength=n)
    keep = den > 0
    centre = np.bincount(bins, weights=both * energies, minlength=n) / np.maximum(den, 1e-300)
    # Drop empty bins and renumber the fine grid accordingly.
    remap = np.cumsum(keep) - 1
    fine_keep = keep[bins]
    return DualEnergySpectrum(
        name=name,
        kind="polychromatic",
        energies_kev=centre[keep],
        weights_low=wl[keep] / wl.sum(),
        weights_high=wh[keep] / wh.sum(),
        fine_energies_kev=energies[fine_keep],
        fine_bin=remap[bins[fine_keep]].astype(np.int64),
        fine_weights=both[fine_keep],
    )


def kramers_fluence(energies_kev: FloatArray, kvp: float) -> FloatArray:
    """Unfiltered thick-target bremsstrahlung photon fluence per keV, Kramers' law (E0-E)/E."""
    return np.where(energies_kev < kvp, (kvp - energies_kev) / energies_kev, 0.0)


@lru_cache(maxsize=8)
def dual_layer_160kv(bin_width_kev: float = 14.0) -> DualEnergySpectrum:
    """Baggage dual-layer detector preset (see module docstring); bins of ``bin_width_kev``."""
    kvp = 160.0
    e = np.arange(20.25, kvp, 0.5)
    fluence = kramers_fluence(e, kvp)
    fluence = fluence * np.exp(-get_material("aluminium").mass_attenuation(e) * 2.699 * 0.2)
    mu_csi = csi_linear_attenuation(e)
    front = 1.0 - np.exp(-mu_csi * 0.03)
    interlayer = np.exp(-get_material("copper").mass_attenuation(e) * 8.96 * 0.05)
    rear = np.exp(-mu_csi * 0.03) * interlayer * (1.0 - np.exp(-mu_csi * 0.4))
    # Energy-integrating scintillators: signal per photon proportional to its energy.
    edges = np.arange(20.0, kvp + bin_width_kev, bin_width_kev)
    return _from_fine(f"dual_layer_160kv_{bin_width_kev:g}keV", e, fluence * e * front,
                      fluence * e * rear, edges)


@lru_cache(maxsize=8)
def two_effective_energies(low_kev: float = 60.0, high_kev: float = 100.0) -> DualEnergySpectrum:
    """Two monochromatic effective energies (keV); no beam hardening."""
    if not 20.0 <= low_kev < high_kev <= 10000.0:
        raise ValueError("need 20 <= low_kev < high_kev <= 10000 keV")
    e = np.array([low_kev, high_kev], dtype=np.float64)
    return DualEnergySpectrum(
        name=f"mono_{low_kev:g}_{high_kev:g}keV",
        kind="monochromatic",
        energies_kev=e,
        weights_low=np.array([1.0, 0.0]),
        weights_high=np.array([0.0, 1.0]),
        fine_energies_kev=e.copy(),
        fine_bin=np.array([0, 1], dtype=np.int64),
        fine_weights=np.array([1.0, 1.0]),
    )


@lru_cache(maxsize=8)
def linac_dual_energy(
    low_mv: float = 4.0, high_mv: float = 6.0, n_bins: int = 16
) -> DualEnergySpectrum:
    """Cargo linac preset: interlaced ``low_mv`` / ``high_mv`` pulses, log-spaced bins.

    The bremsstrahlung shape uses Kramers' law up to the end-point energy and 2 cm of steel
    (target backing, collimator and container-free path) as filtration; the thick detector is
    modelled as absorbing every photon (energy-integrating). This is a shape approximation,
    not a Monte-Carlo spectrum.
    """
    if not 0.5 <= low_mv < high_mv <= 10.0:
        raise ValueError("need 0.5 <= low_mv < high_mv <= 10 MV")
    e = np.geomspace(100.0, high_mv * 1000.0, 1200)
    steel = np.exp(-get_material("iron").mass_attenuation(e) * 7.874 * 2.0)
    low = kramers_fluence(e, low_mv * 1000.0) * steel * e
    high = kramers_fluence(e, high_mv * 1000.0) * steel * e
    edges = np.geomspace(100.0, high_mv * 1000.0, n_bins + 1)
    edges[-1] += 1.0
    return _from_fine(f"linac_{low_mv:g}_{high_mv:g}MV", e, low, high, edges)
