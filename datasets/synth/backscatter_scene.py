"""Synthetic one-sided backscatter scans of vans, deterministic from a seed.

The vehicle is voxelised as a (H, W, D) volume: rows = height (row 0 at the top, 2 cm
pixels by default), columns = length along the vehicle, depth = across the vehicle from the
scanner side (``voxel_depth_cm``). Thin body panels are represented by their areal density
(a voxel of steel with density scaled by panel thickness / voxel depth). Hidden organic
packages (often right behind the near panel or in door cavities) and stowaways are
annotated with pixel xyxy boxes; see :data:`BACKSCATTER_CLASSES`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vision.backscatter import simulate_backscatter
from vision.xray.materials import Material, get_material

BACKSCATTER_CLASSES: tuple[str, ...] = ("organic_package", "person")

F32 = NDArray[np.float32]
_MATERIALS: tuple[str, ...] = ("steel", "glass", "rubber", "polyethylene", "cellulose",
                               "soft_tissue", "bone", "sugar", "iron", "aluminium", "pvc")


@dataclass(frozen=True)
class BackscatterConfig:
    """Image size (pixels), pixel size and depth sampling (cm), beam energy (keV)."""

    height: int = 160
    width: int = 400
    pixel_cm: float = 1.5
    voxel_depth_cm: float = 4.0
    depth_cm: float = 200.0
    energy_kev: float = 90.0
    photons: float | None = 300.0


@dataclass
class BackscatterSample:
    """Image (float32 (H, W), 1 = thick water), annotations (label, pixel xyxy box, attrs)."""

    seed: int
    image: F32
    annotations: list[tuple[str, tuple[float, float, float, float], dict[str, Any]]]
    meta: dict[str, Any] = field(default_factory=dict)


class _Volume:
    def __init__(self, cfg: BackscatterConfig):
        self.cfg = cfg
        self.nd = int(np.ceil(cfg.depth_cm / cfg.voxel_depth_cm))
        self.mat = np.zeros((cfg.height, cfg.width, self.nd), dtype=np.uint8)
        self.den = np.zeros((cfg.height, cfg.width, self.nd), dtype=np.float32)
        self.materials: tuple[Material, ...] = tuple(get_material(n) for n in _MATERIALS)
        self.index = {n: i + 1 for i, n in enumerate(_MATERIALS)}

    def px(self, cm: float) -> int:
        return int(round(cm / self.cfg.pixel_cm))

    def dz(self, cm: float) -> int:
        return int(np.clip(round(cm / self.cfg.voxel_depth_cm), 0, self.nd))

    def fill(self, rows: slice, cols: slice, d0_cm: float, d1_cm: float, material: str,
             density: float, mask: NDArray[np.bool_] | None = None) -> None:
        """Fill a box (rows, cols, depth range in cm); ``mask`` limits it in (rows, cols)."""
        d0, d1 = self.dz(d0_cm), max(self.dz(d1_cm), self.dz(d0_cm) + 1)
        m = self.mat[rows, cols, d0:d1]
        d = self.den[rows, cols, d0:d1]
        sel = np.ones(m.shape[:2], dtype=bool) if mask is None else mask
        m[sel] = self.index[material]
        d[sel] = density

    def panel(self, rows: slice, cols: slice, depth_cm: float, material: str, density: float,
              thickness_cm: float) -> None:
        """A thin sheet: one voxel whose density carries the sheet's areal density."""
        k = min(self.dz(depth_cm), self.nd - 1)
        self.mat[rows, cols, k] = self.index[material]
        self.den[rows, cols, k] = density * thickness_cm / self.cfg.voxel_depth_cm


def _ellipse_mask(h: int, w: int) -> NDArray[np.bool_]:
    yy, xx = np.mgrid[:h, :w]
    return bool_((((yy + 0.5) / h - 0.5) ** 2 + ((xx + 0.5) / w - 0.5) ** 2) <= 0.25)


def bool_(a: NDArray[np.bool_]) -> NDArray[np.bool_]:
    return np.asarray(a, dtype=bool)


def _person(vol: _Volume, top: int, left: int, depth_cm: float, height_px: int) -> tuple[
        float, float, float, float]:
    """Stick-figure body: head, torso, legs (soft tissue) with a bone core; returns box."""
    h = height_px
    w = max(4, h // 4)
    parts = [(0, int(h * 0.14), w // 2), (int(h * 0.14), int(h * 0.55), w), (int(h * 0.55), h, w)]
    for r0, r1, pw in parts:
        rows = slice(top + r0, top + r1)
        c0 = left + (w - pw) // 2
        mask = _ellipse_mask(r1 - r0, pw) if r0 == 0 else None
        vol.fill(rows, slice(c0, c0 + pw), depth_cm, depth_cm + 25, "soft_tissue", 1.05, mask)
        vol.fill(rows, slice(c0 + pw // 2 - 1, c0 + pw // 2 + 1), depth_cm + 8, depth_cm + 16,
                 "bone", 1.9)
    return float(left), float(top), float(left + w), float(top + h)


def generate_backscatter(seed: int, config: BackscatterConfig | None = None) -> BackscatterSample:
    """One van side scan (see module docstring)."""
    cfg = config if config is not None else BackscatterConfig()
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xBAC5]))
    vol = _Volume(cfg)
    ground = cfg.height - vol.px(10)
    length = vol.px(rng.uniform(430, 560))
    x0 = max(1, (cfg.width - length) // 2)
    x1 = min(cfg.width - 1, x0 + length)
    roof = max(2, ground - vol.px(rng.uniform(200, 235)))
    cab_len = vol.px(rng.uniform(140, 170))
    floor = ground - vol.px(45)
    body = (slice(roof, floor), slice(x0, x1))
    panel_t = float(rng.uniform(0.07, 0.12))
    vol.panel(*body, 0.0, "steel", 7.85, panel_t)
    vol.panel(*body, cfg.depth_cm - cfg.voxel_depth_cm, "steel", 7.85, panel_t)
    win = (slice(roof + vol.px(15), roof + vol.px(80)), slice(x0 + vol.px(30), x0 + cab_len))
    vol.panel(*win, 0.0, "glass", 2.5, 0.4)
    # floor, engine, fuel tank, wheels
    vol.fill(slice(floor, floor + vol.px(4)), slice(x0, x1), 0, cfg.depth_cm, "steel", 7.85 * 0.04)
    vol.fill(slice(floor - vol.px(60), floor), slice(x0 + vol.px(5), x0 + vol.px(80)), 50, 150,
             "iron", 2.5)
    tank = slice(x0 + cab_len + vol.px(40), x0 + cab_len + vol.px(110))
    vol.panel(slice(floor + vol.px(5), floor + vol.px(35)), tank, 12.0, "steel", 7.85, 0.15)
    vol.fill(slice(floor + vol.px(8), floor + vol.px(33)), tank, 13, 60, "polyethylene", 0.84)
    wheel_h = ground - floor + vol.px(10)
    for cx in (x0 + vol.px(75), x1 - vol.px(90)):
        rows = slice(ground - wheel_h, ground)
        cols = slice(cx - wheel_h // 2, cx + wheel_h // 2)
        tyre = _ellipse_mask(wheel_h, 2 * (wheel_h // 2))
        vol.fill(rows, cols, 0, 22, "rubber", 1.15, tyre)
        vol.fill(rows, cols, cfg.depth_cm - 22, cfg.depth_cm, "rubber", 1.15, tyre)
        hub = np.zeros_like(tyre)
        q = wheel_h // 4
        hub[q:-q, q:-q] = True
        vol.fill(rows, cols, 5, 20, "steel", 2.0, hub & tyre)
    # cab: seats and driver
    seat = slice(x0 + vol.px(90), x0 + vol.px(125))
    vol.fill(slice(floor - vol.px(70), floor), seat, 30, 170, "polyethylene", 0.08)
    annotations: list[tuple[str, tuple[float, float, float, float], dict[str, Any]]] = []
    _person(vol, floor - vol.px(120), x0 + vol.px(95), 40.0, vol.px(110))
    # cargo area: cartons and goods
    cargo = (x0 + cab_len + vol.px(10), x1 - vol.px(10))
    for _ in range(int(rng.integers(2, 9))):
        bw, bh = vol.px(rng.uniform(30, 80)), vol.px(rng.uniform(30, 70))
        cx = int(rng.integers(cargo[0], max(cargo[0] + 1, cargo[1] - bw)))
        rows = slice(floor - bh, floor)
        d0 = float(rng.uniform(20, 120))
        material = str(rng.choice(["cellulose", "steel", "polyethylene", "aluminium"]))
        dens = {"cellulose": 0.25, "steel": 0.6, "polyethylene": 0.3, "aluminium": 0.4}[material]
        vol.fill(rows, slice(cx, cx + bw), d0, d0 + rng.uniform(30, 70), material, dens)
    # concealed organic packages, often right behind the near panel or in the doors
    for _ in range(int(rng.choice([0, 1, 1, 2, 3]))):
        bw, bh = vol.px(rng.uniform(20, 45)), vol.px(rng.uniform(12, 30))
        cx = int(rng.integers(x0 + vol.px(10), x1 - bw - vol.px(10)))
        ry = int(rng.integers(roof + vol.px(20), floor - bh))
        d0 = float(rng.choice([cfg.voxel_depth_cm, rng.uniform(5, 60)]))
        thick = float(rng.uniform(8, 25))
        vol.fill(slice(ry, ry + bh), slice(cx, cx + bw), d0, d0 + thick,
                 str(rng.choice(["sugar", "cellulose"])), float(rng.uniform(0.9, 1.3)))
        annotations.append(("organic_package", (float(cx), float(ry), float(cx + bw),
                                                float(ry + bh)), {"depth_cm": round(d0, 1)}))
    if rng.random() < 0.25:  # stowaway in the cargo area
        hp = vol.px(rng.uniform(100, 130))
        left = int(rng.integers(cargo[0], max(cargo[0] + 1, cargo[1] - hp // 4)))
        top = max(roof + 1, floor - hp)
        box = _person(vol, top, left, float(rng.uniform(30, 120)), floor - top)
        annotations.append(("person", box, {}))
    image = simulate_backscatter(vol.mat, vol.den, vol.materials, cfg.voxel_depth_cm,
                                 cfg.energy_kev, cfg.photons, rng=rng)
    return BackscatterSample(seed, image, annotations,
                             {"pixel_cm": cfg.pixel_cm, "energy_kev": cfg.energy_kev,
                              "panel_cm": round(panel_t, 3)})
