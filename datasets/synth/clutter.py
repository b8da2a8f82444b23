"""Benign baggage contents: clothes, shoes, laptop, phone, bottles, cables, toiletries, ...

Builders share the signature of :mod:`datasets.synth.threats`. Only the laptop carries an
annotation label (``"laptop"``: electronics a reviewer must be able to separate from IED
parts); everything else is unlabelled clutter. Sizes in cm, densities in g/cm^3 (bulk).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from datasets.synth.geometry import SceneObject
from datasets.synth.shapes import (
    Placement,
    cylinder_chord,
    ellipsoid_chord,
    refine_part,
    rounded_rect_points,
    tube_chord,
    value_noise,
)

Builder = Callable[[np.random.Generator, Placement], SceneObject]


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def garment(rng: np.random.Generator, at: Placement) -> SceneObject:
    """Folded clothing: a textured slab of cotton or nylon with fold lines, 2-7 cm thick."""
    lu, lv = _u(rng, 20, 40) / 2, _u(rng, 15, 32) / 2
    f = at.coarse(2).frame(math.hypot(lu, lv) + 1.0)
    _, v = f.uv
    mask = f.poly(rounded_rect_points(lu, lv, _u(rng, 1.0, 5.0)))
    texture = value_noise(rng, (f.h, f.w), int(rng.integers(6, 14)))
    # fold lines depend on v only: tabulate the 1-D profile, then one lookup per pixel
    grid = np.linspace(-lv - 3.0, lv + 3.0, 256, dtype=np.float32)
    profile = np.zeros_like(grid)
    for _ in range(int(rng.integers(1, 4))):
        bump = np.maximum(1.0 - ((grid - _u(rng, -lv, lv)) / 1.5) ** 2, 0.0)
        profile += bump * bump
    folds = np.interp(v, grid, profile).astype(np.float32)
    t = np.float32(_u(rng, 2.0, 7.0)) * (np.float32(0.55) + np.float32(0.7) * texture
                                          + np.float32(0.5) * folds)
    t *= mask
    material = str(rng.choice(["cellulose", "nylon", "cellulose"]))
    parts = [f.part(material, _u(rng, 0.2, 0.45), t.astype(np.float32, copy=False), at.zc)]
    if rng.random() < 0.3:  # zip or buttons
        parts.append(f.part("steel", 7.85, f.polyline([(-lu * 0.8, 0.0), (lu * 0.8, 0.0)], 0.4),
                            at.zc, 0.12))
    return SceneObject("garment", None, [refine_part(p, 2) for p in parts])


def soft_bundle(rng: np.random.Generator, at: Placement) -> SceneObject:
    """Crumpled soft item (towel, scarf, underwear): irregular blob with noisy thickness."""
    r = _u(rng, 6, 16)
    f = at.coarse(2).frame(r * 1.4)
    n = 14
    radii = r * (0.7 + 0.6 * rng.random(n))
    pts = [(float(radii[k] * math.cos(2 * math.pi * k / n)),
            float(radii[k] * math.sin(2 * math.pi * k / n))) for k in range(n)]
    mask = f.poly(pts)
    t = _u(rng, 2.0, 6.0) * (0.4 + value_noise(rng, (f.h, f.w), 8)) * mask
    part = f.part("cellulose", _u(rng, 0.15, 0.35), t.astype(np.float32), at.zc)
    return SceneObject("soft_bundle", None, [refine_part(part, 2)])


def shoe(rng: np.random.Generator, at: Placement) -> SceneObject:
    """Shoe: rubber sole, leather/nylon upper, steel shank and eyelets."""
    length, width = _u(rng, 24, 31), _u(rng, 8.5, 11)
    f = at.frame(length / 2 + 1)
    z = at.zc
    sole = f.ellipse(0, 0, length / 2, width / 2) | f.ellipse(length * 0.22, 0, length * 0.3,
                                                               width * 0.55)
    parts = [f.part("rubber", 1.1, sole, z, _u(rng, 1.5, 3.0)),
             f.part("nylon", 0.9, f.ellipse(length * 0.1, 0, length * 0.36, width * 0.45), z, 1.0),
             f.part("steel", 7.85, f.rect(-length * 0.25, length * 0.05, -0.6, 0.6), z, 0.15)]
    for k in range(int(rng.integers(0, 6))):
        parts.append(f.part("steel", 7.85, f.ellipse(length * (0.05 + 0.06 * k), 1.5, 0.25, 0.25),
                            z, 0.3))
        parts.append(f.part("steel", 7.85, f.ellipse(length * (0.05 + 0.06 * k), -1.5, 0.25, 0.25),
                            z, 0.3))
    return SceneObject("shoe", None, parts)


def laptop(rng: np.random.Generator, at: Placement) -> SceneObject:
    """Laptop: case, screen glass, main board, battery cells, heat pipe, hinges and screws."""
    lu, lv = _u(rng, 30, 36) / 2, _u(rng, 21, 25) / 2
    f = at.frame(math.hypot(lu, lv) + 1)
    z = at.zc
    body = f.rect(-lu, lu, -lv, lv)
    metal_case = rng.random() < 0.5
    parts = [f.part("aluminium" if metal_case else "polyethylene",
                    2.7 if metal_case else 1.05, body, z, 0.25 if metal_case else 0.5),
             f.part("glass", 2.4, body, z, 0.12),
             f.part("polyethylene", 1.0, body, z, 0.4)]
    board = f.rect(-lu * 0.9, lu * 0.1, -lv * 0.8, lv * 0.1)
    parts += [f.part("glass", 1.9, board, z, 0.16), f.part("copper", 8.96, board, z, 0.012)]
    # battery: a row of lithium-ion cells lying along u near the front edge
    n_cells = int(rng.integers(3, 7))
    cv = lv * 0.55
    span = (2 * lu * 0.8) / n_cells
    for k in range(n_cells):
        cu = -lu * 0.8 + span * (k + 0.5)
        chord = f.tube(cu - span * 0.45, cu + span * 0.45, cv, 0.9)
        parts += [f.part("steel", 7.85, f.tube(cu - span * 0.45, cu + span * 0.45, cv, 0.9, 0.87),
                         z),
                  f.part("graphite", 1.6, 0.35 * chord, z), f.part("iron", 4.5, 0.12 * chord, z),
                  f.part("copper", 8.96, 0.04 * chord, z),
                  f.part("aluminium", 2.7, 0.05 * chord, z)]
    parts.append(f.part("copper", 8.96, f.polyline([(-lu * 0.2, -lv * 0.3), (lu * 0.5, -lv * 0.5)],
                                                    0.6), z, 0.3))
    parts.append(f.part("steel", 7.85, f.rect(-lu * 0.8, -lu * 0.55, -lv, -lv + 1.0)
                        | f.rect(lu * 0.55, lu * 0.8, -lv, -lv + 1.0), z, 0.8))
    for su, sv in ((-lu + 1, -lv + 1), (lu - 1, -lv + 1), (-lu + 1, lv - 1), (lu - 1, lv - 1)):
        parts.append(f.part("steel", 7.85, f.ellipse(su, sv, 0.25, 0.25), z, 0.6))
    return SceneObject("laptop", "laptop", parts, {"cells": n_cells})


def phone(rng: np.random.Generator, at: Placement) -> SceneObject:
    """Phone or power bank: glass, aluminium frame, pouch battery, board."""
    lu, lv = _u(rng, 6.5, 8.5), _u(rng, 3.2, 4.2)
    f = at.frame(math.hypot(lu, lv) + 0.5)
    z = at.zc
    body = f.poly(rounded_rect_points(lu, lv, 0.8))
    pouch = f.rect(-lu * 0.6, lu * 0.5, -lv * 0.8, lv * 0.8)
    parts = [f.part("glass", 2.4, body, z, 0.15), f.part("aluminium", 2.7, body, z, 0.1),
             f.part("graphite", 1.6, pouch, z, 0.2), f.part("iron", 4.5, pouch, z, 0.05),
             f.part("copper", 8.96, pouch, z, 0.02),
             f.part("copper", 8.96, f.rect(lu * 0.55, lu * 0.9, -lv * 0.8, lv * 0.8), z, 0.05)]
    return SceneObject("phone", None, parts)


def cable(rng: np.random.Generator, at: Placement) -> SceneObject:
    """Charging cable (random walk or coil) with an optional charger brick."""
    length = _u(rng, 60, 180)
    f = at.frame(min(length / 4, 25.0) + 3)
    z = at.zc
    if rng.random() < 0.5:  # coiled
        radius, turns = _u(rng, 5, 12), int(rng.integers(3, 8))
        pts = [((radius + 0.4 * k / 20) * math.cos(2 * math.pi * k / 20) + _u(rng, -0.6, 0.6),
                (radius * 0.7) * math.sin(2 * math.pi * k / 20) + _u(rng, -0.6, 0.6))
               for k in range(turns * 20)]
    else:
        pts, ang, p = [], _u(rng, 0, 2 * math.pi), (0.0, 0.0)
        for _ in range(int(length / 4)):
            ang += _u(rng, -0.7, 0.7)
            p = (float(np.clip(p[0] + 4 * math.cos(ang), -22, 22)),
                 float(np.clip(p[1] + 4 * math.sin(ang), -22, 22)))
            pts.append(p)
    parts = [f.part("pvc", 1.38, f.polyline(pts, 0.4), z, 0.35),
             f.part("copper", 8.96, f.polyline(pts, 0.15), z, 0.08)]
    if rng.random() < 0.5:
        bu, bv = pts[-1]
        brick = f.rect(bu - 3.0, bu + 3.0, bv - 2.2, bv + 2.2)
        parts += [f.part("polyethylene", 1.05, brick, z, 2.5),
                  f.part("iron", 7.0, f.rect(bu - 1.2, bu + 1.2, bv - 1.0, bv + 1.0), z, 1.2),
                  f.part("copper", 8.96, f.rect(bu - 1.6, bu + 1.6, bv - 0.4, bv + 0.4), z, 0.6),
                  f.part("glass", 1.9, brick, z, 0.16)]
    return SceneObject("cable", None, parts)


def toiletry(rng: np.random.Generator, at: Placement) -> SceneObject:
    """Small (<= 100 ml) bottle, toothpaste tube, razor or aerosol can."""
    kind = str(rng.choice(["small_bottle", "tube", "razor", "aerosol"]))
    z = at.zc
    if kind == "small_bottle":
        r, length = _u(rng, 1.4, 2.2), _u(rng, 6, 10)
        f = at.frame(length / 2 + 2)
        _, v = f.uv
        body = f.rect(-length / 2, length / 2, -r, r)
        parts = [f.part("water", 1.0, cylinder_chord(v, r - 0.1) * body * 0.9, z),
                 f.part("polyethylene", 1.0, tube_chord(np.abs(v), r, r - 0.1) * body, z),
                 f.part("polyethylene", 1.0, f.rect(length / 2, length / 2 + 1.5, -1, 1), z, 2.0)]
    elif kind == "tube":
        f = at.frame(10)
        body = f.poly([(-8, -2.2), (7, -1.6), (7, 1.6), (-8, 2.2)])
        parts = [f.part("water", 1.3, body, z, 1.5), f.part("aluminium", 2.7, body, z, 0.02),
                 f.part("polyethylene", 1.0, f.rect(7, 8.5, -1.0, 1.0), z, 2.0)]
    elif kind == "razor":
        f = at.frame(9)
        parts = [f.part("polyethylene", 1.1, f.rect(-8, 4, -0.6, 0.6), z, 1.0),
                 f.part("steel", 7.85, f.rect(4, 8, -2.0, 2.0), z, 0.05),
                 f.part("polyethylene", 1.1, f.rect(4, 8, -2.0, 2.0), z, 0.8)]
    else:
        r, length = _u(rng, 2.2, 3.2), _u(rng, 12, 20)
        f = at.frame(length / 2 + 2)
        _, v = f.uv
        body = f.rect(-length / 2, length / 2, -r, r)
        parts = [f.part("aluminium", 2.7, tube_chord(np.abs(v), r, r - 0.04) * body, z),
                 f.part("ethanol", 0.8, cylinder_chord(v, r - 0.04) * body * 0.6, z),
                 f.part("steel", 7.85, f.rect(length / 2, length / 2 + 1.0, -r, r), z, 0.3)]
    return SceneObject(kind, None, parts)


def book(rng: np.random.Generator, at: Placement) -> SceneObject:
    """Book or magazine stack: dense paper slab."""
    lu, lv = _u(rng, 13, 24) / 2, _u(rng, 18, 30) / 2
    f = at.frame(math.hypot(lu, lv) + 1)
    return SceneObject("book", None, [f.part("cellulose", _u(rng, 0.7, 0.95),
                                             f.rect(-lu, lu, -lv, lv), at.zc, _u(rng, 0.8, 3.5))])


def umbrella(rng: np.random.Generator, at: Placement) -> SceneObject:
    """Folded umbrella: steel shaft, ribs, nylon canopy, plastic handle."""
    length = _u(rng, 25, 60)
    f = at.frame(length / 2 + 2)
    z = at.zc
    parts = [f.part("steel", 7.85, f.tube(-length / 2, length / 2, 0.0, 0.45, 0.38), z),
             f.part("nylon", 0.6, ellipsoid_chord(f, 0, 0, length * 0.45, 2.5, 2.5), z),
             f.part("polyethylene", 1.0, f.rect(-length / 2 - 5, -length / 2, -1.2, 1.2), z, 2.4)]
    for k in range(6):
        off = -1.8 + 0.7 * k
        parts.append(f.part("steel", 7.85, f.polyline([(-length * 0.4, off * 0.3),
                                                       (length * 0.45, off)], 0.15), z, 0.12))
    return SceneObject("umbrella", None, parts)


def small_metal(rng: np.random.Generator, at: Placement) -> SceneObject:
    """Keys, coins or a belt buckle."""
    kind = str(rng.choice(["keys", "coins", "buckle"]))
    f = at.frame(5)
    z = at.zc
    if kind == "coins":
        parts = [f.part("copper", 8.9, f.ellipse(_u(rng, -2, 2), _u(rng, -2, 2), 1.2, 1.2), z, 0.2)
                 for _ in range(int(rng.integers(2, 6)))]
    elif kind == "keys":
        parts = [f.part("steel", 7.85, f.ellipse(-2.5, 0, 1.3, 1.3) & ~f.ellipse(-2.5, 0, 1.0, 1.0),
                        z, 0.25)]
        for k in range(int(rng.integers(1, 4))):
            a = _u(rng, -0.6, 0.6)
            tip = (-1.2 + 5.5 * math.cos(a), 5.5 * math.sin(a))
            parts.append(f.part("copper", 8.5, f.polyline([(-1.2, 0.0), tip], 1.1), z, 0.2))
            del k
    else:
        parts = [f.part("steel", 7.85, f.rect(-2.5, 2.5, -2.0, 2.0) & ~f.rect(-1.8, 1.8, -1.3, 1.3),
                        z, 0.5),
                 f.part("nylon", 0.9, f.rect(2.5, 4.8, -1.6, 1.6), z, 0.4)]
    return SceneObject(kind, None, parts)


def food(rng: np.random.Generator, at: Placement) -> SceneObject:
    """Snacks: a carton of sugar/cereal or a few fruit."""
    z = at.zc
    if rng.random() < 0.5:
        lu, lv = _u(rng, 6, 12), _u(rng, 4, 9)
        f = at.frame(math.hypot(lu, lv) + 1)
        box = f.rect(-lu, lu, -lv, lv)
        parts = [f.part("cellulose", 0.9, box, z, 0.1),
                 f.part("sugar", _u(rng, 0.4, 0.8), box, z, _u(rng, 3, 7))]
    else:
        f = at.frame(9)
        parts = [f.part("water", 0.95, ellipsoid_chord(f, _u(rng, -4, 4), _u(rng, -4, 4),
                                                       r := _u(rng, 3, 4.5), r, r), z)
                 for _ in range(int(rng.integers(1, 4)))]
    return SceneObject("food", None, parts)


def drink_small(rng: np.random.Generator, at: Placement) -> SceneObject:
    """Empty or nearly empty aluminium beverage can."""
    f = at.frame(8)
    _, v = f.uv
    body = f.rect(-6, 6, -3.2, 3.2)
    parts = [f.part("aluminium", 2.7, tube_chord(np.abs(v), 3.2, 3.17) * body, at.zc),
             f.part("water", 1.0, cylinder_chord(v, 3.15) * body * _u(rng, 0.0, 0.15), at.zc)]
    return SceneObject("empty_can", None, parts)


def glassware(rng: np.random.Generator, at: Placement) -> SceneObject:
    """Glass jar, mug or perfume bottle (inorganic: shows green)."""
    r = _u(rng, 2.5, 5.0)
    length = _u(rng, 6.0, 14.0)
    f = at.frame(length / 2 + 1)
    _, v = f.uv
    body = f.rect(-length / 2, length / 2, -r, r)
    wall = _u(rng, 0.25, 0.6)
    parts = [f.part("glass", 2.4, tube_chord(np.abs(v), r, r - wall) * body, at.zc),
             f.part("glass", 2.4, f.rect(-length / 2, -length / 2 + wall, -r, r), at.zc, 2 * r)]
    if rng.random() < 0.5:
        parts.append(f.part(str(rng.choice(["water", "sugar"])), 1.0,
                            cylinder_chord(v, r - wall) * body * _u(rng, 0.3, 1.0), at.zc))
    return SceneObject("glassware", None, parts)


def appliance(rng: np.random.Generator, at: Placement) -> SceneObject:
    """Hair dryer, shaver or adapter: PVC/ABS shell, copper coil, steel motor, board."""
    lu, lv = _u(rng, 5, 12), _u(rng, 3, 6)
    f = at.frame(math.hypot(lu, lv) + 1)
    z = at.zc
    shell = f.poly(rounded_rect_points(lu, lv, min(lu, lv) * 0.6))
    parts = [f.part(str(rng.choice(["pvc", "polyethylene"])), 1.2, shell, z, _u(rng, 0.4, 1.2)),
             f.part("steel", 7.85, f.ellipse(-lu * 0.4, 0, lv * 0.45, lv * 0.45), z, 0.6),
             f.part("copper", 8.96, f.ellipse(-lu * 0.4, 0, lv * 0.5, lv * 0.5)
                    & ~f.ellipse(-lu * 0.4, 0, lv * 0.3, lv * 0.3), z, 0.4),
             f.part("glass", 1.9, f.rect(0, lu * 0.8, -lv * 0.6, lv * 0.6), z, 0.16),
             f.part("copper", 8.96, f.polyline([(lu * 0.8, 0), (lu + 4, _u(rng, -3, 3))], 0.3),
                    z, 0.15)]
    return SceneObject("appliance", None, parts)


def pvc_item(rng: np.random.Generator, at: Placement) -> SceneObject:
    """Folded PVC raincoat, toy or document sleeve (Zeff ~14: inorganic-looking plastic)."""
    lu, lv = _u(rng, 6, 15), _u(rng, 5, 12)
    f = at.frame(math.hypot(lu, lv) + 1)
    mask = f.poly(rounded_rect_points(lu, lv, 1.5))
    t = _u(rng, 0.3, 1.5) * (0.5 + value_noise(rng, (f.h, f.w), 6)) * mask
    return SceneObject("pvc_item", None, [f.part("pvc", 1.38, t.astype(np.float32), at.zc)])


def hardware(rng: np.random.Generator, at: Placement) -> SceneObject:
    """Scattered small metal: zip pulls, rivets, clips, springs, hair pins, batteries."""
    f = at.frame(12)
    z = at.zc
    parts = []
    for _ in range(int(rng.integers(4, 14))):
        cu, cv = _u(rng, -10, 10), _u(rng, -10, 10)
        kind = int(rng.integers(0, 4))
        if kind == 0:
            parts.append(f.part("steel", 7.85, f.ellipse(cu, cv, _u(rng, 0.2, 0.6),
                                                         _u(rng, 0.2, 0.6)), z, _u(rng, 0.1, 0.5)))
        elif kind == 1:
            a = _u(rng, 0, math.pi)
            ln = _u(rng, 1.0, 5.0)
            end = (cu + ln * math.cos(a), cv + ln * math.sin(a))
            parts.append(f.part("steel", 7.85, f.polyline([(cu, cv), end], _u(rng, 0.1, 0.3)),
                                z, _u(rng, 0.05, 0.25)))
        elif kind == 2:  # spring / coil seen from the side
            n = int(rng.integers(6, 20))
            pts = [(cu + 0.25 * k, cv + 0.6 * math.sin(k * 1.6)) for k in range(n)]
            parts.append(f.part("steel", 7.85, f.polyline(pts, 0.12), z, 0.1))
        else:  # AA battery
            parts += [f.part("steel", 7.85, f.tube(cu - 2.5, cu + 2.5, cv, 0.7, 0.66), z),
                      f.part("iron", 3.5, f.tube(cu - 2.5, cu + 2.5, cv, 0.5), z)]
    return SceneObject("hardware", None, parts)


CLUTTER_BUILDERS: dict[str, tuple[Builder, float]] = {
    "hardware": (hardware, 1.5),
    "glassware": (glassware, 0.6),
    "appliance": (appliance, 0.6),
    "pvc_item": (pvc_item, 0.8),
    # name: (builder, relative frequency)
    "garment": (garment, 3.0),
    "soft_bundle": (soft_bundle, 1.5),
    "shoe": (shoe, 1.0),
    "laptop": (laptop, 0.35),
    "phone": (phone, 0.8),
    "cable": (cable, 1.2),
    "toiletry": (toiletry, 1.5),
    "book": (book, 0.7),
    "umbrella": (umbrella, 0.4),
    "small_metal": (small_metal, 1.0),
    "food": (food, 0.7),
    "drink_small": (drink_small, 0.3),
}
