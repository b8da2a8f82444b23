"""Threat objects for baggage scenes: handguns, gun parts, knives, IED-like assemblies, liquids.

Every builder takes a random generator and a :class:`~datasets.synth.shapes.Placement` and
returns a :class:`~datasets.synth.geometry.SceneObject` whose ``label`` is one of
:data:`THREAT_CLASSES`. Object frames: ``u`` (cm) points forward (muzzle, blade tip), ``v``
(cm) points down (grip) or across the blade. Thicknesses are path lengths along the beam for
the object lying flat; metal parts use bulk steel with a reduced thickness where the real part
is hollow.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from datasets.synth.geometry import Part, SceneObject
from datasets.synth.shapes import Frame, Placement, cylinder_chord, tube_chord

THREAT_CLASSES: tuple[str, ...] = ("handgun", "gun_part", "knife", "ied", "liquid")

Builder = Callable[[np.random.Generator, Placement], SceneObject]


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


# --- handguns ----------------------------------------------------------------------------


def _pistol_parts(f: Frame, s: float, zc: float, steel_frame: bool) -> list[Part]:
    u, v = f.uv
    parts = [
        f.part("steel", 7.85, f.rect(-9.5 * s, 9.5 * s, -1.9 * s, 0.4 * s), zc, 0.9),
        # barrel inside the slide
        f.part("steel", 7.85, tube_chord(np.abs(v + 0.75 * s), 0.7 * s, 0.45 * s)
               * f.rect(-6.0 * s, 9.5 * s, -1.8 * s, 0.3 * s), zc),
    ]
    grip = [(-8.8 * s, 0.4 * s), (-3.4 * s, 0.4 * s), (-2.1 * s, 12.0 * s),
            (-7.0 * s, 12.7 * s), (-9.7 * s, 11.8 * s)]
    dust_cover = f.rect(-8.8 * s, 7.5 * s, 0.4 * s, 1.5 * s)
    frame_mask = f.poly(grip) | dust_cover
    guard = f.polyline([(-3.3 * s, 1.4 * s), (-3.0 * s, 4.3 * s), (1.4 * s, 4.3 * s),
                        (2.6 * s, 1.4 * s)], 0.6 * s)
    if steel_frame:
        parts.append(f.part("steel", 7.85, frame_mask | guard, zc, 0.7))
    else:
        parts.append(f.part("nylon", 1.4, frame_mask | guard, zc, 2.8 * s))
        parts.append(f.part("steel", 7.85, f.rect(-8.0 * s, 6.5 * s, 0.3 * s, 0.7 * s), zc, 0.6))
    mag = [(-7.6 * s, 1.3 * s), (-4.4 * s, 1.3 * s), (-3.2 * s, 11.7 * s), (-6.3 * s, 12.3 * s)]
    parts.append(f.part("steel", 7.85, f.poly(mag), zc, 0.25))
    rounds = [(-7.0 * s, 1.9 * s), (-4.9 * s, 1.9 * s), (-3.8 * s, 11.0 * s), (-6.0 * s, 11.5 * s)]
    parts.append(f.part("copper", 8.5, f.poly(rounds), zc, 0.35))
    parts.append(f.part("lead", 11.35, f.ellipse(-6.0 * s, 1.6 * s, 1.2 * s, 0.45 * s), zc, 0.7))
    parts.append(f.part("steel", 7.85, f.polyline([(-1.2 * s, 1.4 * s), (-0.7 * s, 3.4 * s)],
                                                 0.45 * s), zc, 0.6))
    del u
    return parts


def handgun(rng: np.random.Generator, at: Placement) -> SceneObject:
    """Semi-automatic pistol (polymer or steel frame) or revolver, 15-22 cm long."""
    kind = rng.choice(["pistol_polymer", "pistol_steel", "revolver"], p=[0.45, 0.25, 0.3])
    if kind == "revolver":
        return _revolver(rng, at)
    s = _u(rng, 0.85, 1.12)
    f = at.frame(14.0 * s)
    parts = _pistol_parts(f, s, at.zc, steel_frame=kind == "pistol_steel")
    return SceneObject(str(kind), "handgun", parts, {"length_cm": round(19.0 * s, 1)})


def _revolver(rng: np.random.Generator, at: Placement) -> SceneObject:
    barrel = _u(rng, 5.0, 15.0)
    f = at.frame(barrel + 11.0)
    u, v = f.uv
    z = at.zc
    parts = [
        f.part("steel", 7.85, tube_chord(np.abs(v + 0.4), 0.85, 0.45) * f.rect(2.2, 2.2 + barrel,
                                                                                -1.4, 0.6), z),
        # cylinder: six chambers, about 60 % steel along the beam, with cartridges
        f.part("steel", 7.85, 0.6 * cylinder_chord(v - 0.2, 1.9) * f.rect(-2.0, 2.2, -2.0, 2.2), z),
        f.part("copper", 8.5,
               0.25 * cylinder_chord(v - 0.2, 1.9) * f.rect(-1.8, 2.0, -1.8, 2.0), z),
        f.part("lead", 11.35, 0.3 * cylinder_chord(v - 0.2, 1.9) * f.rect(1.2, 2.0, -1.8, 2.0), z),
        f.part("steel", 7.85, f.poly([(-2.4, -1.6), (2.4, -1.6), (2.4, 2.6), (-1.0, 3.4),
                                      (-4.2, 2.0), (-4.0, -0.8)]) & ~f.rect(-2.0, 2.2, -2.0, 2.2),
               z, 1.0),
        f.part("cellulose", 0.75, f.poly([(-4.3, 1.6), (-1.8, 2.8), (-3.6, 10.5), (-7.2, 10.0),
                                          (-6.6, 3.4)]), z, 3.0),
        f.part("steel", 7.85, f.polyline([(-1.6, 2.8), (-1.6, 4.8), (1.6, 4.6), (1.8, 2.4)], 0.5),
               z, 0.6),
    ]
    del u
    return SceneObject("revolver", "handgun", parts, {"barrel_cm": round(barrel, 1)})


def gun_part(rng: np.random.Generator, at: Placement) -> SceneObject:
    """A single handgun component: barrel, slide, magazine, frame or revolver cylinder."""
    kind = str(rng.choice(["barrel", "slide", "magazine", "frame", "cylinder"]))
    s = _u(rng, 0.85, 1.12)
    z = at.zc
    if kind == "barrel":
        length = _u(rng, 8.0, 16.0)
        f = at.frame(length / 2 + 1.5)
        _, v = f.uv
        parts = [f.part("steel", 7.85, tube_chord(np.abs(v), 0.75 * s, 0.45 * s)
                        * f.rect(-length / 2, length / 2, -1.0, 1.0), z),
                 f.part("steel", 7.85, f.rect(-length / 2, -length / 2 + 2.0, -0.9 * s,
                                              0.9 * s), z, 0.8)]
    elif kind == "slide":
        f = at.frame(10.5 * s)
        parts = [f.part("steel", 7.85, f.rect(-9.5 * s, 9.5 * s, -1.1 * s, 1.1 * s)
                        & ~f.rect(-2.0 * s, 2.5 * s, -0.6 * s, 1.1 * s), z, 0.9)]
    elif kind == "magazine":
        f = at.frame(7.5 * s)
        body = f.rect(-6.0 * s, 6.0 * s, -1.6 * s, 1.6 * s)
        parts = [f.part("steel", 7.85, body, z, 0.25),
                 f.part("copper", 8.5, f.rect(-5.5 * s, 5.0 * s, -1.2 * s, 1.2 * s), z, 0.35),
                 f.part("lead", 11.35, f.rect(4.0 * s, 5.6 * s, -1.1 * s, 1.1 * s), z, 0.5)]
    elif kind == "frame":
        f = at.frame(13.0 * s)
        grip = [(-8.8 * s, -1.5 * s), (-3.4 * s, -1.5 * s), (-2.1 * s, 10.0 * s),
                (-7.0 * s, 10.7 * s), (-9.7 * s, 9.8 * s)]
        mask = f.poly(grip) | f.rect(-8.8 * s, 7.5 * s, -2.0 * s, -0.6 * s)
        parts = [f.part("nylon", 1.4, mask, z, 2.8 * s),
                 f.part("steel", 7.85, f.rect(-8.0 * s, 6.5 * s, -2.0 * s, -1.6 * s), z, 0.6)]
    else:
        f = at.frame(3.0)
        _, v = f.uv
        parts = [f.part("steel", 7.85, 0.6 * cylinder_chord(v, 1.9) * f.rect(-2.0, 2.0, -2, 2), z)]
    return SceneObject(kind, "gun_part", parts, {})


# --- knives --------------------------------------------------------------------------------


def knife(rng: np.random.Generator, at: Placement) -> SceneObject:
    """Kitchen, dagger, folding, utility or cleaver knife; blade length 6-30 cm."""
    kind = str(rng.choice(["kitchen", "dagger", "folding", "utility", "cleaver"]))
    lo, hi = {"kitchen": (8, 26), "dagger": (8, 22), "folding": (6, 11), "utility": (6, 9),
              "cleaver": (14, 30)}[kind]
    blade = _u(rng, lo, hi)
    handle = {"folding": blade * 1.15, "utility": 11.0}.get(kind, _u(rng, 9.0, 13.0))
    f = at.frame((blade + handle) / 2 + 3.0)
    shift = (blade - handle) / 2  # centre the whole knife on the placement
    u, v = f.uv
    uu = u + np.float32(shift)
    z = at.zc
    spine = _u(rng, 0.12, 0.3) if kind != "utility" else 0.06
    width = {"kitchen": _u(rng, 2.2, 4.2), "dagger": _u(rng, 2.4, 3.6),
             "folding": _u(rng, 1.8, 2.6), "utility": 1.9,
             "cleaver": _u(rng, 5.0, 9.0)}[kind] * min(1.0, 0.55 + blade / 30.0)

    def blade_poly(pts: list[tuple[float, float]]) -> NDArray[np.bool_]:
        return f.poly([(p - shift, q) for p, q in pts])

    if kind == "dagger":
        mask = blade_poly([(0, -width / 2), (0.75 * blade, -width * 0.42), (blade, 0),
                           (0.75 * blade, width * 0.42), (0, width / 2)])
        profile = spine * np.clip(1.0 - np.abs(v) / (width / 2), 0.15, 1.0)
        hv0, hv1 = -1.1, 1.1
    elif kind == "cleaver":
        mask = blade_poly([(0, 0), (blade, 0), (blade, width), (0.1 * blade, width),
                           (0, width * 0.7)])
        profile = spine * np.clip(1.0 - v / width, 0.2, 1.0)
        hv0, hv1 = 0.3, 0.3 + 2.2
    elif kind == "utility":
        mask = blade_poly([(0, 0), (blade - 1.6, 0), (blade, width), (0, width)])
        profile = np.full_like(v, spine)
        hv0, hv1 = -0.4, width + 0.4
    else:  # kitchen / folding: straight spine, curved belly to the tip
        n = 10
        belly = [(0.65 * blade + 0.35 * blade * k / n,
                  width * math.cos(0.5 * math.pi * k / n)) for k in range(n + 1)]
        mask = blade_poly([(0, 0), (blade, 0)] + belly[::-1] + [(0, width)])
        profile = spine * np.clip(1.0 - v / width, 0.15, 1.0)
        hv0, hv1 = 0.1 - (0.35 if kind == "folding" else 0.0), width * 0.55 + 0.5
    parts = [f.part("steel", 7.85, mask * profile.astype(np.float32), z)]
    handle_mask = (uu >= -handle) & (uu <= 0) & (v >= hv0) & (v <= hv1)
    if kind == "folding":
        parts += [f.part("steel", 7.85, handle_mask, z, 0.2),
                  f.part(str(rng.choice(["nylon", "aluminium"])), 1.2, handle_mask, z, 0.9),
                  f.part("steel", 7.85, f.ellipse(-shift - 0.3, 0.6, 0.5, 0.5), z, 1.2)]
    elif kind == "utility":
        parts += [f.part("polyethylene", 1.05, handle_mask, z, 1.6),
                  f.part("steel", 7.85, handle_mask & (v > 0.2) & (v < width - 0.2), z, 0.08)]
    else:
        material = str(rng.choice(["cellulose", "polyethylene", "nylon"]))
        tang = (uu >= -handle * 0.9) & (uu <= 0) & (v >= hv0 + 0.3) & (v <= hv1 - 0.3)
        parts += [f.part(material, 0.9, handle_mask, z, 2.0),
                  f.part("steel", 7.85, tang, z, spine)]
        for k in range(3 if kind != "dagger" else 0):
            cu = -handle * (0.2 + 0.3 * k)
            parts.append(f.part("steel", 7.85, f.ellipse(cu - shift, (hv0 + hv1) / 2, 0.3, 0.3),
                                z, 1.8))
        if kind == "dagger":
            parts.append(f.part("steel", 7.85, f.rect(-0.7 - shift, -shift, -width * 1.1,
                                                      width * 1.1), z, 1.0))
    del u
    return SceneObject(kind + "_knife", "knife", parts, {"blade_length_cm": round(blade, 1)})


# --- IED-like assemblies -----------------------------------------------------------------------


def ied(rng: np.random.Generator, at: Placement) -> SceneObject:
    """Battery + wires + organic mass (+ detonator, optional timer board or steel pipe)."""
    mass_l, mass_w = _u(rng, 8.0, 16.0), _u(rng, 5.0, 10.0)
    f = at.frame(max(mass_l, mass_w) / 2 + 9.0)
    _, v = f.uv
    z = at.zc
    pipe = rng.random() < 0.3
    parts: list[Part] = []
    if pipe:
        r = mass_w / 4 + 1.0
        body = f.rect(-mass_l / 2, mass_l / 2, -r, r)
        parts += [f.part("steel", 7.85, tube_chord(np.abs(v), r, r - 0.35) * body, z),
                  f.part("ammonium_nitrate", _u(rng, 0.9, 1.3), cylinder_chord(v, r - 0.35) * body,
                         z),
                  f.part("steel", 7.85, f.rect(-mass_l / 2 - 1.0, -mass_l / 2, -r - 0.3, r + 0.3)
                         | f.rect(mass_l / 2, mass_l / 2 + 1.0, -r - 0.3, r + 0.3), z, 1.2 * r)]
        mass_w = 2 * r
    else:
        block = f.rect(-mass_l / 2, mass_l / 2, -mass_w / 2, mass_w / 2)
        parts.append(f.part("ammonium_nitrate", _u(rng, 0.9, 1.3), block, z, _u(rng, 3.0, 6.0)))
        parts.append(f.part("polyethylene", 0.95, block, z, 0.05))  # wrapping film
    # detonator in the mass
    du = _u(rng, -mass_l / 4, mass_l / 4)
    det = f.rect(du, du + 5.0, -0.35, 0.35)
    parts += [f.part("aluminium", 2.7, tube_chord(np.abs(v), 0.35, 0.3) * det, z),
              f.part("copper", 8.96, f.rect(du + 0.5, du + 1.5, -0.25, 0.25), z, 0.4)]
    # battery pack beside the mass
    bu, bv = mass_l / 2 + 2.5, mass_w / 2 + 2.0
    if rng.random() < 0.5:
        box = f.rect(bu - 2.4, bu + 2.4, bv - 1.3, bv + 1.3)  # 9 V block
        parts += [f.part("steel", 7.85, box, z, 0.12), f.part("iron", 4.0, box, z, 0.6)]
    else:
        for k in range(int(rng.integers(2, 5))):
            vv = bv + 1.45 * k
            cell = f.rect(bu - 2.5, bu + 2.5, vv - 0.7, vv + 0.7)
            parts += [f.part("steel", 7.85, tube_chord(np.abs(v - vv), 0.7, 0.66) * cell, z),
                      f.part("iron", 3.5, cylinder_chord(v - vv, 0.5) * cell, z)]
    # wires from battery to detonator (and a timer board half of the time)
    nodes = [(bu, bv), (du + 5.0, 0.0)]
    if rng.random() < 0.5:
        tu, tv = -mass_l / 2 - 3.0, mass_w / 2 + 2.5
        board = f.rect(tu - 2.5, tu + 2.5, tv - 1.8, tv + 1.8)
        parts += [f.part("glass", 1.9, board, z, 0.16), f.part("copper", 8.96, board, z, 0.01)]
        nodes.append((tu, tv))
    for k in range(len(nodes) - 1 + int(rng.integers(1, 3))):
        a, b = nodes[k % len(nodes)], nodes[(k + 1) % len(nodes)]
        mid = ((a[0] + b[0]) / 2 + _u(rng, -2, 2), (a[1] + b[1]) / 2 + _u(rng, -2, 2))
        path = [a, mid, b]
        parts += [f.part("pvc", 1.38, f.polyline(path, 0.3), z, 0.3),
                  f.part("copper", 8.96, f.polyline(path, 0.12), z, 0.1)]
    return SceneObject("ied", "ied", parts, {"pipe": pipe})


# --- liquids ----------------------------------------------------------------------------------


def liquid(rng: np.random.Generator, at: Placement) -> SceneObject:
    """Bottle over 100 ml (0.3-1.5 l) of water, ethanol or another organic liquid."""
    r = _u(rng, 2.8, 4.5)
    length = float(np.clip(_u(rng, 300, 1500) / (math.pi * r * r), 8.0, 30.0))
    fluid = str(rng.choice(["water", "ethanol", "water", "sugar"]))  # sugar: syrup-like
    density = {"water": 1.0, "ethanol": 0.79, "sugar": 1.3}[fluid]
    wall, wall_t = ("glass", 0.35) if rng.random() < 0.3 else ("polyethylene", 0.05)
    upright = rng.random() < 0.15
    z = at.zc
    if upright:  # standing bottle: the beam runs along its axis
        f = at.frame(r + 0.5)
        u, v = f.uv
        disc = np.hypot(u, v) <= r
        ring = disc & (np.hypot(u, v) >= r - 0.6)
        parts = [f.part(fluid, density, disc, z, length * 0.8),
                 f.part(wall, 1.0 if wall == "polyethylene" else 2.4, ring, z, length)]
        return SceneObject("bottle_upright", "liquid", parts,
                           {"volume_ml": round(math.pi * r * r * length * 0.8), "fluid": fluid})
    fill = _u(rng, 0.6, 1.0)
    f = at.frame(length / 2 + 4.0)
    u, v = f.uv
    body = (u >= -length / 2) & (u <= length / 2)
    neck = (u > length / 2) & (u <= length / 2 + 3.0) & (np.abs(v) <= 1.3)
    # liquid fills the lower part of the lying cylinder up to height fill * 2r
    half = np.sqrt(np.maximum(r * r - v * v, 0.0))
    top = np.minimum(half, np.float32(-r + 2.0 * r * fill))
    depth = np.maximum(top + half, 0.0) * body
    shell = tube_chord(np.abs(v), r, r - wall_t) * body + cylinder_chord(v, 1.3) * neck * 0.15
    parts = [f.part(fluid, density, depth.astype(np.float32), z),
             f.part(wall, 1.0 if wall == "polyethylene" else 2.4, shell.astype(np.float32), z),
             f.part("polyethylene", 1.0, f.rect(length / 2 + 2.4, length / 2 + 3.6, -1.5, 1.5),
                    z, 2.6)]
    return SceneObject("bottle", "liquid", parts,
                       {"volume_ml": round(math.pi * r * r * length * fill), "fluid": fluid})


THREAT_BUILDERS: dict[str, Builder] = {
    "handgun": handgun, "gun_part": gun_part, "knife": knife, "ied": ied, "liquid": liquid,
}
