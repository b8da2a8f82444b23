"""Threat image projection (TIP): threat sprites rendered by the scan physics, pasted into
benign backgrounds (synthetic bags or real benign scans), as scanner vendors do for operator
testing.

A sprite is one threat object alone on the belt, rendered with the same dual-energy physics
and palette as the scenes (noise-free), cropped to its extent: an RGB patch that is white where
the beam is unattenuated. X-ray transmission multiplies along the beam (T = T_bag * T_threat),
so pasting multiplies the background by the sprite's normalised colour - white leaves the
background unchanged, a dense part darkens it and tints it. This is the usual RGB
approximation of TIP on pseudo-colour images (exact only on the raw pair).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from datasets.synth.geometry import Scene, mask_box, object_mask, project_top
from datasets.synth.shapes import Placement
from datasets.synth.threats import THREAT_BUILDERS
from vision.xray.render import pseudo_colour
from vision.xray.transmission import simulate_dual_energy

U8 = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Sprite:
    """A threat patch: uint8 RGB ``(h, w, 3)`` (white = no attenuation) and its label."""

    rgb: U8
    label: str


def render_sprite(label: str, rng: np.random.Generator, pixel_cm: float,
                  canvas: int = 192) -> Sprite | None:
    """One threat of class ``label`` at a random pose; None if it left the canvas."""
    if label not in THREAT_BUILDERS:
        raise ValueError(f"no threat builder for {label!r}; known: {sorted(THREAT_BUILDERS)}")
    scene = Scene("tip", canvas, canvas, pixel_cm, depth_cm=20.0)
    at = Placement(canvas / 2, canvas / 2, 10.0, float(rng.uniform(0, 2 * math.pi)), pixel_cm,
                   flip=bool(rng.random() < 0.5),
                   tilt=float(rng.uniform(0.0, 0.9)) if rng.random() < 0.25 else 0.0)
    obj = scene.add(THREAT_BUILDERS[label](rng, at))
    box = mask_box(object_mask(obj, canvas, canvas))
    if box is None:
        return None
    x1, y1, x2, y2 = (int(v) for v in box)
    if x1 <= 0 or y1 <= 0 or x2 >= canvas or y2 >= canvas:
        return None  # clipped by the canvas: the box would be wrong
    low, high = simulate_dual_energy(project_top(scene), detector=None)
    rgb = pseudo_colour(low, high)
    return Sprite(np.ascontiguousarray(rgb[y1:y2, x1:x2]), label)


def sprite_bank(labels: tuple[str, ...], per_label: int, pixel_cm: float,
                seed: int) -> list[Sprite]:
    """``per_label`` sprites of each label, deterministic from ``seed``."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x719]))
    out: list[Sprite] = []
    for label in labels:
        made, tries = 0, 0
        while made < per_label and tries < per_label * 4:
            tries += 1
            s = render_sprite(label, rng, pixel_cm)
            if s is not None:
                out.append(s)
                made += 1
    return out


def paste(background: U8, sprite: U8, x: int, y: int) -> tuple[U8, tuple[float, float, float,
                                                                          float]] | None:
    """Multiply ``sprite`` into ``background`` (both uint8 RGB) with its top-left at (x, y).

    Returns the new image and the pasted box (xyxy, clipped), or None if less than 60 % of the
    sprite lands inside the image.
    """
    h, w = background.shape[:2]
    sh, sw = sprite.shape[:2]
    x1, y1, x2, y2 = max(x, 0), max(y, 0), min(x + sw, w), min(y + sh, h)
    if x2 <= x1 or y2 <= y1 or (x2 - x1) * (y2 - y1) < 0.6 * sh * sw:
        return None
    out = background.copy()
    patch = sprite[y1 - y:y2 - y, x1 - x:x2 - x].astype(np.float32) / np.float32(255.0)
    region = out[y1:y2, x1:x2].astype(np.float32) * patch
    out[y1:y2, x1:x2] = np.clip(np.rint(region), 0, 255).astype(np.uint8)
    return out, (float(x1), float(y1), float(x2), float(y2))
