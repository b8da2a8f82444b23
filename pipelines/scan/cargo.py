"""Cargo scan rules: empty-container verification and manifest consistency.

Both work on the raw dual-energy pair of a truck scan (side view, MeV linac,
:func:`vision.xray.spectra.linac_dual_energy`; row 0 = top, x along the vehicle):

1. **Container region.** Mean high-energy attenuation A_H = -ln T_high over the middle rows
   gives a column profile; the longest run of columns above :data:`AIR_LEVEL` is the
   container (the cab is a shorter run, separated by a gap). Within those columns the row
   profile gives the roof (first row above air level) and the floor (the strongest row in
   the lower half: plywood floor + rails). The interior is that box shrunk by a margin.
2. **Load signature** (:class:`LoadSignature`). The wall baseline is the 5th percentile of
   A_H inside; *load pixels* exceed it by :data:`LOAD_MARGIN`. Features: load fraction, mean
   excess attenuation, mean attenuation of load pixels, and the organic / inorganic / metal
   shares of load pixels from the Zeff map (:func:`vision.xray.zeff.material_classes`).
3. **Empty verification.** ``load_fraction`` against two thresholds calibrated on generated
   scans (:mod:`pipelines.scan.cargo_calibration`): green (consistent with empty), yellow
   (inspect), red (not empty).
4. **Manifest consistency.** Each HS chapter has a calibrated feature centroid and spread;
   the declared chapter's normalised distance is compared with the best-fitting chapter. A
   mismatch finding explains in words what the scan shows and what the declaration implies.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from vision.xray.spectra import linac_dual_energy
from vision.xray.zeff import MaterialClass, material_classes, zeff_map

F32 = npt.NDArray[np.float32]
AIR_LEVEL: Final[float] = 0.05
LOAD_MARGIN: Final[float] = 0.15
MARGIN_PX: Final[int] = 4
FEATURES: Final[tuple[str, ...]] = ("load_fraction", "mean_excess", "load_attenuation",
                                    "organic", "inorganic", "metal")
CALIBRATION_FILE = Path(__file__).with_name("cargo_calibration.json")

HS_DESCRIPTIONS: Final[dict[str, str]] = {
    "27": "coal (bulk mineral fuel)", "85": "cartons of electronics", "40": "rubber tyres",
    "52": "cotton / textile bales", "84": "machinery", "08": "fresh produce in crates",
    "24": "cigarettes in cartons",
}


class CargoRegionError(ValueError):
    """No container could be located in the scan."""


@dataclass(frozen=True)
class LoadSignature:
    """What the container interior holds, from the raw pair (see module docstring)."""

    box: tuple[int, int, int, int]  # interior x1, y1, x2, y2 (pixels, exclusive ends)
    load_fraction: float
    mean_excess: float
    load_attenuation: float
    organic: float
    inorganic: float
    metal: float

    def vector(self) -> F32:
        return np.array([getattr(self, f) for f in FEATURES], dtype=np.float32)

    def describe(self) -> str:
        if self.load_fraction < 0.02:
            return "an empty interior (wall attenuation only)"
        parts = sorted((("organic", self.organic), ("inorganic", self.inorganic),
                        ("metal", self.metal)), key=lambda p: -p[1])
        mix = ", ".join(f"{int(round(100 * v))}% {k}" for k, v in parts if v >= 0.05)
        return (f"{int(round(100 * self.load_fraction))}% of the interior loaded ({mix}); "
                f"mean load attenuation {self.load_attenuation:.2f}")


def _runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[0::2], edges[1::2], strict=True)]


def container_box(a_high: F32) -> tuple[int, int, int, int]:
    """Interior box (x1, y1, x2, y2) of the container in a truck scan's A_H image."""
    h, _ = a_high.shape
    band = a_high[int(h * 0.35):int(h * 0.55)]
    runs = _runs(np.median(band, axis=0) > AIR_LEVEL)
    if not runs:
        raise CargoRegionError("no attenuating vehicle found in the scan")
    x1, x2 = max(runs, key=lambda r: r[1] - r[0])
    if x2 - x1 < 40:
        raise CargoRegionError(f"longest attenuating run is {x2 - x1} px: no container")
    rows = np.median(a_high[:, x1:x2], axis=1)
    above = np.flatnonzero(rows > AIR_LEVEL)
    top = int(above[0])
    lower = rows[h // 2:]
    floor = h // 2 + int(np.argmax(lower))
    box = (x1 + MARGIN_PX * 2, top + MARGIN_PX, x2 - MARGIN_PX * 2, floor - MARGIN_PX)
    if box[2] - box[0] < 10 or box[3] - box[1] < 10:
        raise CargoRegionError("container interior too small to assess")
    return box


def load_signature(low: F32, high: F32) -> LoadSignature:
    """Load features of a cargo raw pair (float32 transmissions, linac spectrum)."""
    a_high = -np.log(np.clip(high, 1e-12, 1.0)).astype(np.float32)
    x1, y1, x2, y2 = container_box(a_high)
    inner = a_high[y1:y2, x1:x2]
    base = float(np.percentile(inner, 5))
    load = inner > base + LOAD_MARGIN
    frac = float(load.mean())
    excess = float(np.maximum(inner - base, 0).mean())
    att = float(inner[load].mean() - base) if load.any() else 0.0
    shares = {"organic": 0.0, "inorganic": 0.0, "metal": 0.0}
    if load.any():
        lo, hi = low[y1:y2, x1:x2], high[y1:y2, x1:x2]
        classes = material_classes(zeff_map(lo, hi, linac_dual_energy()), hi)[load]
        n = float(classes.size)
        shares = {"organic": float((classes == MaterialClass.ORGANIC).sum() / n),
                  "inorganic": float((classes == MaterialClass.INORGANIC).sum() / n),
                  "metal": float(np.isin(classes, (MaterialClass.METAL,
                                                   MaterialClass.IMPENETRABLE)).sum() / n)}
    return LoadSignature((x1, y1, x2, y2), frac, excess, att, **shares)


@dataclass(frozen=True)
class CargoCalibration:
    """Thresholds and per-chapter feature statistics fitted on generated scans."""

    green_max: float  # load_fraction <= green_max: consistent with empty
    red_min: float  # load_fraction >= red_min: not empty
    centroids: dict[str, list[float]]
    spreads: dict[str, list[float]]
    mismatch_margin: float  # declared distance - best distance above this: mismatch
    report: dict[str, Any]

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> CargoCalibration:
        if not path.is_file():
            raise FileNotFoundError(f"{path} missing: run python -m "
                                    "pipelines.scan.cargo_calibration")
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(**raw)

    def save(self, path: Path = CALIBRATION_FILE) -> None:
        path.write_text(json.dumps(asdict(self), indent=1) + "\n", encoding="utf-8")

    def distance(self, sig: LoadSignature, chapter: str) -> float:
        c = np.asarray(self.centroids[chapter], dtype=np.float32)
        s = np.asarray(self.spreads[chapter], dtype=np.float32)
        return float(np.sqrt(np.mean(((sig.vector() - c) / s) ** 2)))


@dataclass(frozen=True)
class EmptyVerdict:
    colour: str  # green | yellow | red
    load_fraction: float
    explanation: str


def verify_empty(sig: LoadSignature, cal: CargoCalibration) -> EmptyVerdict:
    f = sig.load_fraction
    if f <= cal.green_max:
        colour = "green"
    elif f >= cal.red_min:
        colour = "red"
    else:
        colour = "yellow"
    text = (f"declared empty; scan shows {sig.describe()} - {colour} (green <= "
            f"{cal.green_max:.3f} < yellow < {cal.red_min:.3f} <= red load fraction)")
    return EmptyVerdict(colour, f, text)


@dataclass(frozen=True)
class ManifestCheck:
    declared: str
    best: str
    declared_distance: float
    best_distance: float
    mismatch: bool
    explanation: str


def check_manifest(sig: LoadSignature, declared: str, cal: CargoCalibration) -> ManifestCheck:
    """Compare the declared HS chapter with the scan's load signature."""
    if declared not in cal.centroids:
        raise ValueError(f"HS chapter {declared!r} has no calibrated signature; known: "
                         f"{sorted(cal.centroids)}")
    dist = {ch: cal.distance(sig, ch) for ch in cal.centroids}
    best = min(dist, key=dist.__getitem__)
    margin = dist[declared] - dist[best]
    mismatch = margin > cal.mismatch_margin
    want = HS_DESCRIPTIONS.get(declared, declared)
    if mismatch:
        text = (f"declared HS {declared} ({want}) but the scan shows {sig.describe()}, which "
                f"fits HS {best} ({HS_DESCRIPTIONS.get(best, best)}) better (distance "
                f"{dist[best]:.2f} vs {dist[declared]:.2f} for the declared goods)")
    else:
        text = f"declared HS {declared} ({want}) is consistent with {sig.describe()}"
    return ManifestCheck(declared, best, dist[declared], dist[best], mismatch, text)
