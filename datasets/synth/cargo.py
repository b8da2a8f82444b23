"""Synthetic cargo transmission scans (trucks with containers) with declarations.

Geometry follows :mod:`datasets.synth.geometry`, turned on its side: the image is the side
view of the truck (row 0 at the top, 1 px = ``pixel_cm``), the beam crosses the vehicle
(the scene's z axis = container width, ``depth_cm``). Physics is the MeV linac preset
(:func:`vision.xray.spectra.linac_dual_energy`); raw values use the ``log`` encoding.

Loads are drawn from HS chapters (:data:`HS_CHAPTERS`) with their materials and packing
patterns; concealments (hidden compartment, cigarettes, organic packages among goods, a
person) are annotated with :data:`CARGO_CLASSES`; some containers are truly empty. Each scan
has a declaration: what was declared and whether it matches the load.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from datasets.synth.geometry import Part, Scene, SceneObject, mask_box, object_mask, project_top
from datasets.synth.shapes import value_noise
from vision.xray.render import DEFAULT_PALETTE, Palette, pseudo_colour
from vision.xray.spectra import DualEnergySpectrum, linac_dual_energy
from vision.xray.transmission import DetectorModel, simulate_dual_energy

CARGO_CLASSES: tuple[str, ...] = ("hidden_compartment", "cigarettes", "organic_package",
                                  "person")

#: HS chapter -> description of the goods generated for it.
HS_CHAPTERS: dict[str, str] = {
    "27": "mineral fuels: coal (bulk)",
    "85": "electrical machinery and equipment: cartons of electronics",
    "40": "rubber: tyres",
    "52": "cotton / textiles: bales",
    "84": "machinery and mechanical appliances",
    "08": "edible fruit: produce in crates",
    "24": "tobacco: cigarettes in cartons",
}

#: Cargo display: colour only where the beam lost enough signal for a material statement.
CARGO_PALETTE = replace(DEFAULT_PALETTE, min_colour_attenuation=1.5, dark_rate=0.25,
                        dark_knee=1.5, attenuation_hue_shift=0.0)

CARGO_DETECTOR = DetectorModel(photons_low=2.0e6, photons_high=4.0e6, electronic_sigma=2.0e-6,
                               blur_sigma_px=0.8, floor=1.0e-6)

F32 = NDArray[np.float32]
U8 = NDArray[np.uint8]


@dataclass(frozen=True)
class CargoConfig:
    """Image (height, width) pixels, pixel size (cm), probabilities of the cases."""

    height: int = 288
    width: int = 1024
    pixel_cm: float = 1.6
    p_empty: float = 0.12
    p_concealment: float = 0.45
    p_misdeclared: float = 0.15
    spectrum: DualEnergySpectrum | None = None
    detector: DetectorModel | None = CARGO_DETECTOR
    palette: Palette = CARGO_PALETTE


@dataclass
class CargoSample:
    """A cargo scan: raw pair, pseudo-colour, annotations and the declaration."""

    seed: int
    scene: Scene
    low: F32
    high: F32
    rgb: U8
    annotations: list[tuple[str, tuple[float, float, float, float], NDArray[np.bool_],
                            dict[str, Any]]]
    declaration: dict[str, Any] = field(default_factory=dict)


class _Builder:
    """Adds axis-aligned parts in scene cm (x along the vehicle, y up from the ground)."""

    def __init__(self, scene: Scene):
        self.s = scene
        self.ground_px = scene.height - 4

    def rect(self, x0: float, x1: float, y0: float, y1: float, material: str, density: float,
             t: float | F32, zc: float | None = None) -> Part:
        """Part covering x0..x1, y0..y1 cm (y up from the ground) with thickness t cm."""
        r0, r1, c0, c1 = self._extent(x0, x1, y0, y1)
        thick = np.broadcast_to(np.asarray(t, dtype=np.float32), (r1 - r0, c1 - c0))
        return Part(material, density, np.ascontiguousarray(thick, dtype=np.float32), r0, c0,
                    self.s.depth_cm / 2 if zc is None else zc)

    def _extent(self, x0: float, x1: float, y0: float, y1: float) -> tuple[int, int, int, int]:
        """Pixel rows r0:r1 and columns c0:c1 of the cm rectangle (at least 1 x 1)."""
        p = self.s.pixel_cm
        c0, c1 = int(round(x0 / p)), max(int(round(x1 / p)), int(round(x0 / p)) + 1)
        r1 = self.ground_px - int(round(y0 / p))
        r0 = min(self.ground_px - int(round(y1 / p)), r1 - 1)
        return r0, r1, c0, c1

    def rect_shape(self, x0: float, x1: float, y0: float, y1: float) -> tuple[int, int]:
        """(rows, columns) of the thickness array :meth:`rect` makes for this rectangle, so a
        per-pixel thickness (a texture) can be sized to match it exactly."""
        r0, r1, c0, c1 = self._extent(x0, x1, y0, y1)
        return r1 - r0, c1 - c0

    def obj(self, kind: str, parts: list[Part], label: str | None = None,
            **attrs: Any) -> SceneObject:
        return self.s.add(SceneObject(kind, label, parts, dict(attrs)))


def _truck(b: _Builder, rng: np.random.Generator) -> tuple[float, float, float, float]:
    """Tractor, chassis, wheels and a 20/40 ft container; returns the interior x0, x1, y0, y1."""
    width_cm = b.s.depth_cm
    cab_x = 60.0
    b.obj("cab", [
        b.rect(cab_x, cab_x + 230, 110, 360, "steel", 7.85, 0.25),
        b.rect(cab_x + 10, cab_x + 120, 110, 190, "iron", 3.0, 70.0),  # engine block
        b.rect(cab_x + 130, cab_x + 220, 130, 200, "polyethylene", 0.1, 180.0),  # seats
        b.rect(cab_x, cab_x + 230, 250, 330, "glass", 2.5, 0.8),
    ])
    length = 1200.0 if rng.random() < 0.6 else 600.0
    c0 = cab_x + 260
    c1 = min(c0 + length, b.s.width * b.s.pixel_cm - 20)
    floor_y, roof_y = 130.0, 130.0 + 259.0
    wall = float(rng.uniform(0.16, 0.22))
    parts = [
        b.rect(c0, c1, floor_y, roof_y, "steel", 7.85, 2 * wall),  # side walls
        b.rect(c0, c1, floor_y, floor_y + 3, "cellulose", 0.7, width_cm),  # plywood floor
        b.rect(c0, c1, roof_y - 2, roof_y, "steel", 7.85, 0.2 * width_cm / 2.0 / 2),
        b.rect(c0, c0 + 4, floor_y, roof_y, "steel", 7.85, 25.0),  # front wall / posts
        b.rect(c1 - 4, c1, floor_y, roof_y, "steel", 7.85, 40.0),  # doors + bars
        b.rect(c0, c1, floor_y - 12, floor_y, "steel", 7.85, 12.0),  # bottom rails
    ]
    for x in np.arange(c0 + 15, c1 - 10, 30.0):  # floor cross members
        parts.append(b.rect(float(x), float(x) + 4.5, floor_y - 12, floor_y, "steel", 7.85,
                            0.6 * width_cm / 10))
    b.obj("container", parts)
    chassis = [b.rect(cab_x, c1, 95, 120, "steel", 7.85, 1.6)]
    n_trailer = 3 if length > 700 else 2
    axles = [cab_x + 60, cab_x + 200] + [c1 - 150 - 140 * k for k in range(n_trailer)]
    for ax in axles:
        r = 50.0
        xs = np.arange(ax - r, ax + r, b.s.pixel_cm)
        for x in xs:
            half = math.sqrt(max(r * r - (x - ax) ** 2, 0.0))
            chassis.append(b.rect(float(x), float(x) + b.s.pixel_cm, 55 - half, 55 + half,
                                  "rubber", 1.15, 2 * 30.0))
        chassis.append(b.rect(ax - 25, ax + 25, 30, 80, "steel", 7.85, 2 * 4.0))
        chassis.append(b.rect(ax - 6, ax + 6, 49, 61, "steel", 7.85, width_cm * 0.8))
    b.obj("chassis", chassis)
    return c0 + 5, c1 - 5, floor_y + 3, roof_y - 3


def _goods(b: _Builder, rng: np.random.Generator, chapter: str, x0: float, x1: float,
           y0: float, y1: float) -> list[SceneObject]:
    """Fill the interior with the goods of an HS chapter; returns the objects added."""
    w = b.s.depth_cm
    out: list[SceneObject] = []
    fill_x1 = x0 + (x1 - x0) * float(rng.uniform(0.55, 1.0))
    if chapter == "27":
        top = y0 + (y1 - y0) * float(rng.uniform(0.35, 0.75))
        noise = value_noise(rng, (1, 64), 16)[0]
        parts = []
        step = max(b.s.pixel_cm * 4, (fill_x1 - x0) / 64)
        for k, x in enumerate(np.arange(x0, fill_x1, step)):
            h = (top - y0) * (0.8 + 0.4 * float(noise[k % 64]))
            parts.append(b.rect(float(x), float(x) + step, y0, y0 + h, "coal", 0.85, w * 0.95))
        out.append(b.obj("coal", parts))
        return out
    box_w, box_h = {"85": (60, 50), "40": (80, 80), "52": (110, 90), "84": (120, 100),
                    "08": (60, 30), "24": (50, 40)}[chapter]
    layers = int((y1 - y0) // box_h) if chapter != "84" else 1
    for layer in range(max(1, min(layers, int(rng.integers(1, layers + 1)) + 1))):
        yb = y0 + layer * box_h
        for x in np.arange(x0, fill_x1 - box_w, box_w + float(rng.uniform(1, 8))):
            out.append(_unit(b, rng, chapter, float(x), yb, box_w, box_h, w))
    return out


def _unit(b: _Builder, rng: np.random.Generator, chapter: str, x: float, y: float,
          bw: float, bh: float, w: float) -> SceneObject:
    """One packing unit (carton column, tyre row, bale, machine, crate) across the width."""
    if chapter == "85":
        parts = [b.rect(x, x + bw, y, y + bh, "cellulose", 0.08, w),
                 b.rect(x + 8, x + bw - 8, y + 8, y + bh - 12, "polyethylene", 0.05, w),
                 b.rect(x + 10, x + bw - 20, y + 10, y + 20, "glass", 0.03, w),
                 b.rect(x + 15, x + 30, y + 20, y + 35, "iron", 0.05, w),
                 b.rect(x + 12, x + 40, y + 12, y + 14, "copper", 0.01, w)]
        return b.obj("electronics", parts)
    if chapter == "40":
        r = bw / 2
        parts = []
        for dx in np.arange(0.0, bw, b.s.pixel_cm):
            d = abs(dx - r)
            if d >= r:
                continue
            outer, inner = math.sqrt(r * r - d * d), math.sqrt(max((r * 0.55) ** 2 - d * d, 0))
            cy = y + r
            for y_lo, y_hi in ((cy - outer, cy - inner), (cy + inner, cy + outer)):
                if y_hi - y_lo > 0.5:
                    parts.append(b.rect(x + dx, x + dx + b.s.pixel_cm, y_lo, y_hi, "rubber",
                                        1.15, w * 0.9))
                    parts.append(b.rect(x + dx, x + dx + b.s.pixel_cm, y_lo, y_hi, "steel",
                                        7.85, w * 0.9 * 0.015))
        return b.obj("tyres", parts)
    if chapter == "52":
        parts = [b.rect(x, x + bw, y, y + bh - 2, "cellulose", float(rng.uniform(0.3, 0.5)),
                        w * 0.9)]
        for yy in (y + bh * 0.3, y + bh * 0.7):
            parts.append(b.rect(x, x + bw, yy, yy + 1.5, "steel", 7.85, 0.1 * w / 3))
        return b.obj("textile_bale", parts)
    if chapter == "84":
        parts = [b.rect(x, x + bw, y, y + 8, "cellulose", 0.6, w * 0.5)]
        for _ in range(int(rng.integers(2, 6))):
            px0 = x + float(rng.uniform(0, bw * 0.6))
            py0 = y + 8 + float(rng.uniform(0, bh * 0.4))
            sw, sh = float(rng.uniform(15, bw * 0.5)), float(rng.uniform(10, bh * 0.5))
            parts.append(b.rect(px0, px0 + sw, py0, py0 + sh, str(rng.choice(["steel",
                                                                             "aluminium"])),
                                7.85, float(rng.uniform(2, 25))))
        return b.obj("machinery", parts)
    if chapter == "08":
        parts = [b.rect(x, x + bw, y, y + bh, "cellulose", 0.15, w * 0.9)]
        # the texture is sized from the rectangle's own pixel extent: sizing it from bh / bw
        # (int() truncation) disagreed with rect()'s rounding by a pixel -> broadcast error
        tex = value_noise(rng, b.rect_shape(x + 2, x + bw - 2, y + 2, y + bh - 2), 12)
        parts.append(b.rect(x + 2, x + bw - 2, y + 2, y + bh - 2, "water", 0.5,
                            (w * 0.85 * (0.6 + 0.8 * tex)).astype(np.float32)))
        return b.obj("produce", parts)
    # 24: cigarettes
    parts = [b.rect(x, x + bw, y, y + bh, "cellulose", 0.33, w * 0.9)]
    return b.obj("cigarettes", parts)


def _person_parts(b: _Builder, x: float, y: float, zc: float) -> list[Part]:
    """Crouching person: torso, head and legs, soft tissue with a bone core (~40 cm thick)."""
    return [b.rect(x, x + 45, y, y + 60, "soft_tissue", 1.05, 35.0, zc),
            b.rect(x + 12, x + 33, y + 60, y + 85, "soft_tissue", 1.05, 18.0, zc),
            b.rect(x + 45, x + 95, y, y + 25, "soft_tissue", 1.05, 30.0, zc),
            b.rect(x + 18, x + 27, y + 5, y + 60, "bone", 1.9, 6.0, zc)]


def _concealment(b: _Builder, rng: np.random.Generator, x0: float, x1: float, y0: float,
                 y1: float) -> SceneObject:
    w = b.s.depth_cm
    kind = str(rng.choice(CARGO_CLASSES))
    if kind == "hidden_compartment":
        depth = float(rng.uniform(40, 90))
        parts = [b.rect(x0 + depth, x0 + depth + 3, y0, y1, "steel", 7.85, w * 0.02 + 20),
                 b.rect(x0 + 5, x0 + depth - 5, y0, y0 + (y1 - y0) * float(rng.uniform(0.3, 0.9)),
                        str(rng.choice(["sugar", "cellulose"])), float(rng.uniform(0.4, 0.8)),
                        w * 0.9)]
        return b.obj("false_wall", parts, kind)
    zc = float(rng.uniform(w * 0.25, w * 0.75))
    x = float(rng.uniform(x0 + 40, max(x0 + 41, x1 - 150)))
    y = y0 + float(rng.uniform(0, 40))
    if kind == "person":
        return b.obj("person", _person_parts(b, x, y, zc), kind)
    size = float(rng.uniform(40, 90))
    if kind == "cigarettes":
        return b.obj("cigarette_cartons", [b.rect(x, x + size, y, y + size * 0.6, "cellulose",
                                                  0.33, float(rng.uniform(40, 120)), zc)], kind)
    return b.obj("organic_bricks", [b.rect(x, x + size, y, y + size * 0.5, "sugar",
                                           float(rng.uniform(0.9, 1.2)),
                                           float(rng.uniform(20, 60)), zc)], kind)


def build_cargo_scene(
    rng: np.random.Generator, config: CargoConfig
) -> tuple[Scene, dict[str, Any]]:
    """Lay out truck, load and concealments; returns the scene and the declaration."""
    scene = Scene("cargo", config.height, config.width, config.pixel_cm, depth_cm=244.0)
    b = _Builder(scene)
    x0, x1, y0, y1 = _truck(b, rng)
    chapters = list(HS_CHAPTERS)
    empty = bool(rng.random() < config.p_empty)
    loaded = None if empty else str(rng.choice(chapters))
    if loaded is not None:
        _goods(b, rng, loaded, x0, x1, y0, y1)
    declared = loaded
    r = rng.random()
    if r < config.p_misdeclared:  # declared something else (or empty / goods while empty)
        declared = str(rng.choice([c for c in chapters if c != loaded])) if loaded else str(
            rng.choice(chapters))
        if loaded is not None and rng.random() < 0.25:
            declared = None
    concealments = []
    if rng.random() < config.p_concealment:
        concealments.append(_concealment(b, rng, x0, x1, y0, y1))
    declaration = {
        "declared_hs_chapter": declared,
        "declared_description": HS_CHAPTERS.get(declared, "empty container") if declared
        else "empty container",
        "declared_empty": declared is None,
        "actual_hs_chapter": loaded,
        "actually_empty": loaded is None and not concealments,
        "concealments": [c.label for c in concealments],
        "matches": declared == loaded and not concealments,
    }
    return scene, declaration


def generate_cargo(seed: int, config: CargoConfig | None = None) -> CargoSample:
    """One truck scan from ``seed`` (deterministic)."""
    cfg = config if config is not None else CargoConfig()
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xCA60]))
    scene, declaration = build_cargo_scene(rng, cfg)
    spectrum = cfg.spectrum if cfg.spectrum is not None else linac_dual_energy()
    low, high = simulate_dual_energy(project_top(scene), spectrum, cfg.detector, rng)
    rgb = pseudo_colour(low, high, spectrum, cfg.palette)
    annotations = []
    for obj in scene.objects:
        if obj.label is None:
            continue
        mask = object_mask(obj, scene.height, scene.width)
        box = mask_box(mask)
        if box is not None:
            annotations.append((obj.label, box, mask, {"kind": obj.kind}))
    return CargoSample(seed, scene, low, high, rgb, annotations, declaration)
