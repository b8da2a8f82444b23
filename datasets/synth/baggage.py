"""Synthetic baggage scans with ground truth (boxes, masks, labels), deterministic from a seed.

``generate_baggage(seed)`` builds a bag (suitcase or soft bag with shell, side walls, trolley
rods, wheels, zip), fills it with clutter and 0-3 threats at random pose, overlap and height,
and renders one or two views:

* ``top``: beam along z, image (size, size), pixel = ``field_cm / size`` cm;
* ``side``: beam along y, image (ceil(depth / pixel), size), row 0 = top of the bag.

Each view carries float32 low/high transmissions (the raw pair; encode with
:func:`vision.xray.encode_raw16`), the vendor pseudo-colour RGB (uint8) and annotations with
pixel xyxy boxes, full-size boolean masks and labels from :data:`BAGGAGE_CLASSES`.
The CT volume of the same scene comes from :func:`datasets.synth.ct_scene.render_ct`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from datasets.synth.clutter import CLUTTER_BUILDERS
from datasets.synth.geometry import (
    Scene,
    SceneObject,
    mask_box,
    object_mask_crop,
    object_side_mask,
    project_side,
    project_top,
)
from datasets.synth.shapes import Placement, rounded_rect_points
from datasets.synth.threats import THREAT_BUILDERS, THREAT_CLASSES
from vision.xray.render import DEFAULT_PALETTE, Palette, pseudo_colour
from vision.xray.spectra import DualEnergySpectrum, dual_layer_160kv
from vision.xray.transmission import DEFAULT_DETECTOR, DetectorModel, simulate_dual_energy

#: Fixed COCO category list (category id = index + 1).
BAGGAGE_CLASSES: tuple[str, ...] = (*THREAT_CLASSES, "laptop")

F32 = NDArray[np.float32]
U8 = NDArray[np.uint8]


@dataclass(frozen=True)
class BaggageConfig:
    """Generator settings. ``size`` in pixels; ``field_cm`` is the scene width in cm."""

    size: int = 512
    field_cm: float = 75.0
    views: int = 1
    threat_count_probs: tuple[float, ...] = (0.25, 0.45, 0.22, 0.08)
    clutter_range: tuple[int, int] = (10, 20)
    garment_range: tuple[int, int] = (2, 5)
    spectrum: DualEnergySpectrum | None = None
    detector: DetectorModel | None = DEFAULT_DETECTOR
    palette: Palette = DEFAULT_PALETTE

    def __post_init__(self) -> None:
        if not 64 <= self.size <= 4096:
            raise ValueError("size must be between 64 and 4096 pixels")
        if self.views not in (1, 2):
            raise ValueError("views must be 1 or 2")
        if abs(sum(self.threat_count_probs) - 1.0) > 1e-6:
            raise ValueError("threat_count_probs must sum to 1")


@dataclass
class Annotation:
    """One annotated object in one view (pixel xyxy box, bool mask of the view's shape)."""

    label: str
    box_xyxy: tuple[float, float, float, float]
    mask: NDArray[np.bool_]
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def category_id(self) -> int:
        return BAGGAGE_CLASSES.index(self.label) + 1


@dataclass
class RenderedView:
    """One rendered projection: raw pair, pseudo-colour and annotations."""

    view: str
    low: F32
    high: F32
    rgb: U8
    annotations: list[Annotation]
    pixel_cm: float

    @property
    def boxes_xyxy(self) -> F32:
        return np.array([a.box_xyxy for a in self.annotations], dtype=np.float32).reshape(-1, 4)

    @property
    def labels(self) -> list[str]:
        return [a.label for a in self.annotations]


@dataclass
class BaggageSample:
    """A generated bag: the scene (for CT) and its rendered views."""

    seed: int
    scene: Scene
    views: list[RenderedView]


def _bag(
    rng: np.random.Generator, scene: Scene
) -> tuple[SceneObject, NDArray[np.bool_], NDArray[np.bool_]]:
    """Bag shell + structure; returns the bag object, the mask where item centres may go and
    the mask inside the side walls (scene pixels)."""
    field_cm = scene.width * scene.pixel_cm
    suitcase = rng.random() < 0.6
    lu = field_cm * rng.uniform(0.42, 0.5)
    lv = lu * rng.uniform(0.62, 0.85)
    angle = rng.uniform(-0.25, 0.25) + (math.pi / 2 if rng.random() < 0.3 else 0.0)
    # shrink so the rotated bag fits in the field with a margin
    c, s = abs(math.cos(angle)), abs(math.sin(angle))
    fit = min(1.0, 0.485 * field_cm / max(lu * c + lv * s, lu * s + lv * c))
    lu, lv = lu * fit, lv * fit
    at = Placement(scene.width / 2, scene.height / 2, scene.depth_cm / 2, angle, scene.pixel_cm)
    f = at.frame(math.hypot(lu, lv) + 2)
    z = scene.depth_cm / 2
    if suitcase:
        outline = rounded_rect_points(lu, lv, rng.uniform(2.0, 6.0))
    else:
        n = 24
        wobble = 1.0 + 0.06 * rng.standard_normal(n)
        outline = [(lu * wobble[k] * math.cos(2 * math.pi * k / n),
                    lv * wobble[k] * math.sin(2 * math.pi * k / n)) for k in range(n)]
    shell = f.poly(outline)
    ring_px = max(2, int(round(1.2 / scene.pixel_cm)))
    inner = cv2.erode(shell.astype(np.uint8), np.ones((ring_px, ring_px), np.uint8)).astype(bool)
    material = "polyethylene" if suitcase else "nylon"
    parts = [f.part(material, 1.05, shell, z, 0.5 if suitcase else 0.3),
             f.part(material, 1.05, shell & ~inner, z, rng.uniform(3.0, 6.0))]
    zip_path = [(p * 0.94, q * 0.94) for p, q in outline]
    parts.append(f.part("steel", 7.85, f.polyline(zip_path, 0.45, closed=suitcase), z, 0.1))
    if suitcase:
        for side in (-1.0, 1.0):
            parts.append(f.part("aluminium", 2.7, f.tube(-lu * 0.9, lu * 0.75, side * lv * 0.35,
                                                         1.0, 0.85), scene.depth_cm - 3))
        parts.append(f.part("aluminium", 2.7, f.rect(lu * 0.75, lu * 0.92, -lv * 0.45, lv * 0.45),
                            scene.depth_cm - 3, 0.6))
        for su, sv in ((-lu + 3, -lv + 3), (-lu + 3, lv - 3), (lu - 3, -lv + 3), (lu - 3, lv - 3)):
            parts.append(f.part("rubber", 1.1, f.ellipse(su, sv, 2.5, 2.5), 3.0, 4.0))
            parts.append(f.part("steel", 7.85, f.ellipse(su, sv, 0.45, 0.45), 3.0, 4.0))
    else:
        for side in (-0.3, 0.3):
            strap = f.polyline([(-lu * 1.1, side * lv), (lu * 1.1, side * lv)], 3.5)
            parts.append(f.part("nylon", 1.1, strap & shell, z, 0.4))
        for k in range(int(rng.integers(2, 5))):
            bu, bv = rng.uniform(-lu * 0.8, lu * 0.8), rng.choice([-0.3, 0.3]) * lv
            buckle = f.rect(bu - 2, bu + 2, bv - 2, bv + 2)
            parts.append(f.part("polyethylene", 1.1, buckle, z, 1.0))
            del k
    margin = max(2, int(round(5.0 / scene.pixel_cm)))
    core = cv2.erode(shell.astype(np.uint8), np.ones((margin, margin), np.uint8)).astype(bool)
    interior = np.zeros((scene.height, scene.width), dtype=bool)
    inside = np.zeros((scene.height, scene.width), dtype=bool)
    y0, x0 = f.y0, f.x0
    ys, xs = max(y0, 0), max(x0, 0)
    ye, xe = min(y0 + f.h, scene.height), min(x0 + f.w, scene.width)
    interior[ys:ye, xs:xe] = core[ys - y0:ye - y0, xs - x0:xe - x0]
    inside[ys:ye, xs:xe] = inner[ys - y0:ye - y0, xs - x0:xe - x0]
    obj = SceneObject("suitcase" if suitcase else "soft_bag", None, parts,
                      {"bag_half_extent_cm": (round(lu, 1), round(lv, 1))})
    return obj, interior, inside


class _Layout:
    """Free space inside the bag: where item centres may go (scene pixels)."""

    def __init__(self, scene: Scene, interior: NDArray[np.bool_], inside: NDArray[np.bool_]):
        self.scene = scene
        self.ys, self.xs = np.nonzero(interior)
        self.inside = inside  # inside the side walls; soft items are clipped to it
        self.dist = cv2.distanceTransform(inside.astype(np.uint8), cv2.DIST_L2, 3)

    def placement(self, rng: np.random.Generator, tilt: bool) -> Placement:
        k = int(rng.integers(0, len(self.ys)))
        tilt_angle = float(rng.uniform(0.0, 1.1)) if tilt and rng.random() < 0.25 else 0.0
        return Placement(
            cx=float(self.xs[k]) + 0.5, cy=float(self.ys[k]) + 0.5,
            zc=float(rng.uniform(2.5, self.scene.depth_cm - 2.5)),
            angle=float(rng.uniform(0, 2 * math.pi)), pixel_cm=self.scene.pixel_cm,
            flip=bool(rng.random() < 0.5), tilt=tilt_angle,
        )

    def fit_rigid(self, rng: np.random.Generator, obj: SceneObject, at: Placement) -> bool:
        """Move a rigid object so its extent stays inside the bag (shifts its parts); False if
        no such place was found (the object then sits at the roomiest spot)."""
        crop, y0, x0 = object_mask_crop(obj, self.scene.height, self.scene.width)
        if crop.size == 0:
            return False
        ys, xs = np.nonzero(crop)
        radius = float(np.sqrt(((ys + y0 - at.cy) ** 2 + (xs + x0 - at.cx) ** 2).max()))
        for _ in range(40):
            k = int(rng.integers(0, len(self.ys)))
            if self.dist[self.ys[k], self.xs[k]] >= radius:
                break
        else:
            flat = int(np.argmax(self.dist))
            k = -1
            ty, tx = divmod(flat, self.scene.width)
        if k >= 0:
            ty, tx = int(self.ys[k]), int(self.xs[k])
        dy, dx = int(round(ty + 0.5 - at.cy)), int(round(tx + 0.5 - at.cx))
        for p in obj.parts:
            p.y0 += dy
            p.x0 += dx
        return k >= 0

    def clip_soft(self, obj: SceneObject) -> None:
        """Squeeze a soft object into the bag: zero its thickness outside the walls."""
        h, w = self.inside.shape
        for p in obj.parts:
            ph, pw = p.thickness.shape
            ys, xs = max(p.y0, 0), max(p.x0, 0)
            ye, xe = min(p.y0 + ph, h), min(p.x0 + pw, w)
            keep = np.zeros((ph, pw), dtype=bool)
            if ye > ys and xe > xs:
                keep[ys - p.y0:ye - p.y0, xs - p.x0:xe - p.x0] = self.inside[ys:ye, xs:xe]
            p.thickness = p.thickness * keep


_SOFT = {"garment", "soft_bundle", "cable"}


def build_baggage_scene(rng: np.random.Generator, config: BaggageConfig) -> Scene:
    """Lay out one bag: structure, clutter and threats (no rendering)."""
    pixel_cm = config.field_cm / config.size
    scene = Scene("baggage", config.size, config.size, pixel_cm,
                  depth_cm=float(rng.uniform(18.0, 30.0)))
    bag, interior, inside = _bag(rng, scene)
    scene.add(bag)
    layout = _Layout(scene, interior, inside)
    names = list(CLUTTER_BUILDERS)
    freq = np.array([CLUTTER_BUILDERS[n][1] for n in names])
    n_garments = int(rng.integers(config.garment_range[0], config.garment_range[1] + 1))
    n_clutter = int(rng.integers(config.clutter_range[0], config.clutter_range[1] + 1))
    todo = ["garment"] * n_garments + [str(n) for n in rng.choice(names, size=n_clutter,
                                                                   p=freq / freq.sum())]
    n_threats = int(rng.choice(len(config.threat_count_probs), p=config.threat_count_probs))
    todo += ["threat:" + str(rng.choice(THREAT_CLASSES)) for _ in range(n_threats)]
    for name in todo:
        if name.startswith("threat:"):
            label = name.split(":", 1)[1]
            at = layout.placement(rng, tilt=label != "liquid")
            obj = THREAT_BUILDERS[label](rng, at)
        else:
            at = layout.placement(rng, tilt=False)
            obj = CLUTTER_BUILDERS[name][0](rng, at)
        if name in _SOFT:
            layout.clip_soft(obj)
        elif not layout.fit_rigid(rng, obj, at) and obj.label is None:
            continue  # clutter too big for this bag stays out; threats are always packed
        scene.add(obj)
    scene.meta["n_threats"] = n_threats
    return scene


def _annotate_top(scene: Scene) -> list[Annotation]:
    h, w = scene.height, scene.width
    coverage = np.zeros((h, w), dtype=np.int16)
    crops = []
    for obj in scene.objects[1:]:  # the bag shell covers everything; skip it
        crop, y0, x0 = object_mask_crop(obj, h, w)
        coverage[y0:y0 + crop.shape[0], x0:x0 + crop.shape[1]] += crop
        crops.append((obj, crop, y0, x0))
    out = []
    for obj, crop, y0, x0 in crops:
        if obj.label is None or crop.sum() < 16:
            continue
        mask = np.zeros((h, w), dtype=bool)
        mask[y0:y0 + crop.shape[0], x0:x0 + crop.shape[1]] = crop
        box = mask_box(mask)
        if box is None:
            continue
        overlap = float((coverage[mask] > 1).mean())
        out.append(Annotation(obj.label, box, mask,
                              {"kind": obj.kind, "overlap": round(overlap, 3), **obj.attributes}))
    return out


def _annotate_side(scene: Scene) -> list[Annotation]:
    out = []
    for obj in scene.objects[1:]:
        if obj.label is None:
            continue
        mask = object_side_mask(obj, scene)
        box = mask_box(mask)
        if box is None or mask.sum() < 16:
            continue
        out.append(Annotation(obj.label, box, mask, {"kind": obj.kind, **obj.attributes}))
    return out


def render_views(
    scene: Scene, config: BaggageConfig, rng: np.random.Generator
) -> list[RenderedView]:
    """Render the top view (and the side view when ``config.views == 2``)."""
    spectrum = config.spectrum if config.spectrum is not None else dual_layer_160kv()
    views = []
    for name in ("top", "side")[: config.views]:
        stack = project_top(scene) if name == "top" else project_side(scene)
        low, high = simulate_dual_energy(stack, spectrum, config.detector, rng)
        rgb = pseudo_colour(low, high, spectrum, config.palette)
        ann = _annotate_top(scene) if name == "top" else _annotate_side(scene)
        views.append(RenderedView(name, low, high, rgb, ann, scene.pixel_cm))
    return views


def generate_baggage(seed: int, config: BaggageConfig | None = None) -> BaggageSample:
    """One bag from ``seed`` (same seed and config -> identical output)."""
    cfg = config if config is not None else BaggageConfig()
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xBA66]))
    scene = build_baggage_scene(rng, cfg)
    return BaggageSample(seed, scene, render_views(scene, cfg, rng))
