"""Threat image projection (TIP) rendering: a synthetic threat projected into a real scan.

The threat is built by the baggage generator's threat builders (:mod:`datasets.synth.threats`),
projected to per-material mass thickness and turned into ideal low/high transmissions by the
scan physics (:func:`vision.xray.simulate_dual_energy`). Beer-Lambert makes projection a
product: a pixel behind bag *and* threat transmits ``T_bag * T_threat`` per channel. Images
without raw channels are composited the way TIP consoles do it, multiplicatively: an RGB
pseudo-colour scan times the threat's own pseudo-colour rendering on white, a grey scan times
the threat's grey rendering.

Placement: the centre is drawn from pixels that hold something (so the threat sits inside
the bag, not on the belt); the pixel size is that of the baggage generator's field (75 cm
across the long side).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Final

import numpy as np
from numpy.typing import NDArray

from annotation.scan_decode import ScanImage, dual_energy_from_arrays
from datasets.synth.geometry import Scene, mask_box, object_mask, project_top
from datasets.synth.shapes import Placement
from datasets.synth.threats import THREAT_BUILDERS
from vision.xray import dual_layer_160kv, grayscale_high, pseudo_colour, simulate_dual_energy

F32 = NDArray[np.float32]

#: Threat classes TIP projects (liquids are left out: a bottle is not a TIP test article).
TIP_CLASSES: Final[tuple[str, ...]] = ("handgun", "knife", "gun_part", "ied")
FIELD_CM: Final[float] = 75.0
TIP_KINDS: Final[frozenset[str]] = frozenset({"dual_energy", "gray16", "gray8", "rgb"})


class TipNotApplicable(ValueError):
    """This image cannot carry a projected threat (CT volume, cargo linac scan)."""


@dataclass(frozen=True)
class ThreatPatch:
    """A threat alone: float32 (H, W) transmissions in (0, 1] and its pixel xyxy box."""

    label: str
    box: tuple[float, float, float, float]
    low: F32
    high: F32


def tip_applicable(img: ScanImage) -> bool:
    """Baggage-like 2-D X-ray images only (cargo linac scans are metres across)."""
    return img.kind in TIP_KINDS and not (img.spectrum or "").startswith("linac")


def _foreground(img: ScanImage) -> NDArray[np.bool_]:
    """Pixels that hold something: transmission below 0.85, or a display value below 215."""
    if img.high is not None:
        return np.asarray(img.high < 0.85)
    if img.gray16 is not None:
        return np.asarray(img.gray16 < int(0.85 * 65535))
    if img.rgb is not None:
        return np.asarray(img.rgb.min(axis=2) < 215)
    return np.zeros((img.height, img.width), dtype=bool)


def _centre(img: ScanImage, rng: np.random.Generator, margin: int) -> tuple[float, float]:
    fg = _foreground(img)
    inner = np.zeros_like(fg)
    if img.height > 2 * margin and img.width > 2 * margin:
        inner[margin:-margin, margin:-margin] = fg[margin:-margin, margin:-margin]
    ys, xs = np.nonzero(inner)
    if ys.size == 0:
        return img.width / 2.0, img.height / 2.0
    i = int(rng.integers(ys.size))
    return float(xs[i]), float(ys[i])


def make_threat(img: ScanImage, seed: int) -> ThreatPatch:
    """A random threat (class, pose, place from ``seed``) sized for ``img``."""
    if not tip_applicable(img):
        raise TipNotApplicable(f"threat projection does not apply to a {img.kind} image")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x71B]))
    pixel_cm = FIELD_CM / max(img.width, img.height)
    for _ in range(8):  # a pose can fall mostly outside a small image; try another
        label = str(rng.choice(TIP_CLASSES))
        cx, cy = _centre(img, rng, margin=max(4, min(img.width, img.height) // 8))
        scene = Scene("tip", img.height, img.width, pixel_cm, depth_cm=25.0)
        obj = scene.add(THREAT_BUILDERS[label](
            rng, Placement(cx, cy, 12.5, float(rng.uniform(0, 2 * math.pi)), pixel_cm)))
        box = mask_box(object_mask(obj, img.height, img.width))
        if box is None or (box[2] - box[0]) * (box[3] - box[1]) < 64:
            continue
        low, high = simulate_dual_energy(project_top(scene), dual_layer_160kv(), detector=None)
        return ThreatPatch(label, box, low, high)
    raise TipNotApplicable("no threat pose fits this image")


def project(img: ScanImage, patch: ThreatPatch, key: str) -> ScanImage:
    """``img`` with ``patch`` projected into it, as a new image with cache key ``key`` (the
    UI keeps using the original key; only the server knows)."""
    if patch.low.shape != (img.height, img.width):
        raise ValueError("threat patch and image differ in size")
    if img.kind == "dual_energy" and img.low is not None and img.high is not None:
        out = dual_energy_from_arrays(key, img.members, img.low * patch.low,
                                      img.high * patch.high, img.encoding, img.spectrum)
        return replace(out, encoding=img.encoding)
    if img.kind == "gray16" and img.gray16 is not None:
        raw = np.rint(img.gray16.astype(np.float32) * patch.high)
        return replace(img, key=key, gray16=np.asarray(np.clip(raw, 0, 65535), dtype=np.uint16))
    if img.rgb is not None:
        if img.kind == "rgb":
            shade = pseudo_colour(patch.low, patch.high).astype(np.float32) / np.float32(255.0)
        else:
            grey = grayscale_high(patch.high).astype(np.float32) / np.float32(255.0)
            shade = np.repeat(grey[:, :, None], 3, axis=2)
        rgb = np.rint(img.rgb.astype(np.float32) * shade)
        return replace(img, key=key, rgb=np.asarray(np.clip(rgb, 0, 255), dtype=np.uint8))
    raise TipNotApplicable(f"threat projection does not apply to a {img.kind} image")
