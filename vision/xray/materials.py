"""Materials for X-ray physics: composition, density, mass attenuation and effective Z.

Units: energies in keV, densities in g/cm^3, mass attenuation coefficients mu/rho in cm^2/g,
areal densities (mass thickness) in g/cm^2.

Compositions are mass fractions of the elements in :mod:`vision.xray.attenuation_data`;
mu/rho of a compound follows the mixture rule. The "true" effective atomic number is the
classic power-law value ``Zeff = (sum_i f_i Z_i^2.94)^(1/2.94)`` with ``f_i`` the fraction of
electrons contributed by element ``i`` (Spiers; Johns & Cunningham), which gives 7.42 for water.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from vision.xray.attenuation_data import (
    CSI_DENSITY_G_CM3,
    CSI_ENERGIES_KEV,
    CSI_MASS_ATTENUATION,
    ELEMENTS,
    LEAD_ENERGIES_KEV,
    LEAD_MASS_ATTENUATION,
    MASS_ATTENUATION,
    MAX_ENERGY_KEV,
    MIN_ENERGY_KEV,
    TABLE_ENERGIES_KEV,
)

ZEFF_EXPONENT: Final[float] = 2.94

FloatArray = NDArray[np.float64]


def interpolate_log_log(
    energies_kev: ArrayLike, table_energies: Iterable[float], table_values: Iterable[float]
) -> FloatArray:
    """Log-log interpolation of a tabulated coefficient (NIST's recommended scheme).

    ``table_energies`` must be non-decreasing; a repeated energy marks an absorption edge
    (first row below, second row above the edge). Energies outside the table raise.
    """
    e = np.asarray(energies_kev, dtype=np.float64)
    xe = np.asarray(tuple(table_energies), dtype=np.float64)
    ye = np.asarray(tuple(table_values), dtype=np.float64)
    if e.size and (np.nanmin(e) < xe[0] - 1e-9 or np.nanmax(e) > xe[-1] + 1e-9):
        raise ValueError(
            f"energy outside the attenuation table range {xe[0]:g}-{xe[-1]:g} keV"
        )
    return np.exp(np.interp(np.log(e), np.log(xe), np.log(ye)))


def element_mass_attenuation(symbol: str, energies_kev: ArrayLike) -> FloatArray:
    """mu/rho (cm^2/g) of a tabulated element at the given energies (keV)."""
    if symbol == "Pb":
        return interpolate_log_log(energies_kev, LEAD_ENERGIES_KEV, LEAD_MASS_ATTENUATION)
    try:
        values = MASS_ATTENUATION[symbol]
    except KeyError:
        raise ValueError(f"no attenuation data for element {symbol!r}") from None
    return interpolate_log_log(energies_kev, TABLE_ENERGIES_KEV, values)


def csi_linear_attenuation(energies_kev: ArrayLike) -> FloatArray:
    """Linear attenuation coefficient (1/cm) of CsI scintillator, 20-200 keV."""
    mu = interpolate_log_log(energies_kev, CSI_ENERGIES_KEV, CSI_MASS_ATTENUATION)
    return mu * CSI_DENSITY_G_CM3


@dataclass(frozen=True)
class Material:
    """A homogeneous material.

    ``composition`` holds ``(element symbol, mass fraction)`` pairs summing to 1; ``density``
    is the nominal density in g/cm^3 (scenes may use a bulk density instead); ``source`` says
    where the composition comes from.
    """

    name: str
    composition: tuple[tuple[str, float], ...]
    density: float
    source: str

    def __post_init__(self) -> None:
        if not self.composition:
            raise ValueError(f"material {self.name!r} has no composition")
        total = sum(w for _, w in self.composition)
        if abs(total - 1.0) > 1e-3:
            raise ValueError(f"mass fractions of {self.name!r} sum to {total:.4f}, not 1")
        for sym, w in self.composition:
            if sym not in ELEMENTS:
                raise ValueError(f"material {self.name!r}: unknown element {sym!r}")
            if w <= 0:
                raise ValueError(f"material {self.name!r}: non-positive fraction for {sym}")
        if self.density <= 0:
            raise ValueError(f"material {self.name!r}: density must be > 0 g/cm^3")

    def mass_attenuation(self, energies_kev: ArrayLike) -> FloatArray:
        """mu/rho (cm^2/g) by the mixture rule at the given energies (keV)."""
        e = np.asarray(energies_kev, dtype=np.float64)
        out = np.zeros(e.shape, dtype=np.float64)
        for sym, w in self.composition:
            out += w * element_mass_attenuation(sym, e)
        return out

    @property
    def electrons_per_gram(self) -> float:
        """sum_i w_i Z_i / A_i in mol electrons per gram (multiply by N_A for a count)."""
        return float(sum(w * ELEMENTS[s][0] / ELEMENTS[s][1] for s, w in self.composition))

    @property
    def zeff(self) -> float:
        """Power-law effective atomic number (exponent 2.94, electron fractions)."""
        return power_law_zeff(self.composition)


def power_law_zeff(composition: Iterable[tuple[str, float]]) -> float:
    """Effective Z of a mixture given ``(symbol, mass fraction)`` pairs."""
    electrons = [(ELEMENTS[s][0], w * ELEMENTS[s][0] / ELEMENTS[s][1]) for s, w in composition]
    total = sum(n for _, n in electrons)
    acc = sum(n / total * z**ZEFF_EXPONENT for z, n in electrons)
    return float(acc ** (1.0 / ZEFF_EXPONENT))


def from_formula(name: str, formula: Mapping[str, float], density: float, source: str) -> Material:
    """Build a material from atom counts, e.g. ``{"H": 2, "O": 1}`` for water."""
    masses = {s: n * ELEMENTS[s][1] for s, n in formula.items()}
    total = sum(masses.values())
    comp = tuple((s, m / total) for s, m in masses.items())
    return Material(name=name, composition=comp, density=density, source=source)


def from_mass_fractions(
    name: str, fractions: Mapping[str, float], density: float, source: str
) -> Material:
    """Build a material from mass fractions (renormalised to sum to 1)."""
    total = sum(fractions.values())
    comp = tuple((s, w / total) for s, w in fractions.items())
    return Material(name=name, composition=comp, density=density, source=source)


def element(symbol: str, density: float, name: str | None = None) -> Material:
    """A pure element (density in g/cm^3)."""
    return Material(
        name=name or symbol, composition=((symbol, 1.0),), density=density,
        source="NIST Table 3 element",
    )


_FORMULA = "stoichiometric formula, NIST Table 3 elements, mixture rule"

_ALL: Final[tuple[Material, ...]] = (
    # --- reference materials of the Zeff validation table --------------------------------
    from_formula("polyethylene", {"C": 1, "H": 2}, 0.94, _FORMULA + " ((CH2)n)"),
    from_formula("water", {"H": 2, "O": 1}, 1.0, _FORMULA),
    from_formula("sugar", {"C": 12, "H": 22, "O": 11}, 1.59, _FORMULA + " (sucrose)"),
    from_formula(
        "ammonium_nitrate", {"N": 2, "H": 4, "O": 3}, 1.72,
        _FORMULA + " (NH4NO3, explosive simulant)",
    ),
    element("Al", 2.699, "aluminium"),
    from_mass_fractions(
        "glass", {"O": 0.4598, "Na": 0.096441, "Si": 0.336553, "Ca": 0.107205}, 2.40,
        "NIST Table 2 composition of 'Glass, Plate' (soda-lime)",
    ),
    element("Fe", 7.874, "iron"),
    element("Cu", 8.96, "copper"),
    element("Pb", 11.35, "lead"),
    # --- further scene materials ----------------------------------------------------------
    from_formula("cellulose", {"C": 6, "H": 10, "O": 5}, 1.5, _FORMULA + " (cotton, paper, wood)"),
    from_formula("nylon", {"C": 6, "H": 11, "N": 1, "O": 1}, 1.14, _FORMULA + " (nylon-6)"),
    from_formula("rubber", {"C": 5, "H": 8}, 0.92, _FORMULA + " (polyisoprene)"),
    from_formula("ethanol", {"C": 2, "H": 6, "O": 1}, 0.789, _FORMULA),
    from_formula("pvc", {"C": 2, "H": 3, "Cl": 1}, 1.38, _FORMULA + " (C2H3Cl)n"),
    from_mass_fractions(
        "coal", {"C": 0.78, "H": 0.05, "O": 0.10, "N": 0.01, "Si": 0.03, "Al": 0.03}, 1.35,
        "typical bituminous coal; ash represented by Si and Al (approximation)",
    ),
    from_mass_fractions(
        "soft_tissue", {"H": 0.102, "C": 0.143, "N": 0.034, "O": 0.721}, 1.06,
        "ICRU-44 soft tissue, trace elements folded into O (approximation)",
    ),
    from_mass_fractions(
        "bone", {"H": 0.034, "C": 0.155, "N": 0.042, "O": 0.457, "Ca": 0.312}, 1.92,
        "ICRU-44 cortical bone, P/Mg/S folded into Ca and O (approximation)",
    ),
    element("Fe", 7.85, "steel"),
    element("C", 2.2, "graphite"),
)

#: All materials by name. Treat as read-only.
MATERIALS: Final[Mapping[str, Material]] = {m.name: m for m in _ALL}

#: The materials of the Zeff validation table (issue: organics, explosive simulant, metals).
REFERENCE_MATERIALS: Final[tuple[str, ...]] = (
    "polyethylene", "water", "sugar", "ammonium_nitrate", "aluminium", "glass", "iron",
    "copper", "lead",
)

ENERGY_RANGE_KEV: Final[tuple[float, float]] = (MIN_ENERGY_KEV, MAX_ENERGY_KEV)


def get_material(name: str) -> Material:
    """Look a material up by name; ``ValueError`` names the known ones."""
    try:
        return MATERIALS[name]
    except KeyError:
        known = ", ".join(sorted(MATERIALS))
        raise ValueError(f"unknown material {name!r}; known: {known}") from None
