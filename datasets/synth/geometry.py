"""Scene geometry shared by the X-ray, side-view and CT renderers.

Coordinates: a scene is a box of ``height x width`` pixels of ``pixel_cm`` cm each, seen from
above (beam along z, downward through the belt). Image axes are [row, col] = [y, x]; z is the
height above the belt in cm, 0 .. ``depth_cm``.

Every object is a list of :class:`Part` s. A part is one material with a per-pixel thickness
map (cm along z) on a rectangular patch whose top-left pixel is (y0, x0), centred at height
``zc``: at pixel (y, x) it fills z in [zc - t/2, zc + t/2]. Projections sum
``density * thickness`` (g/cm^2) per material; the side view and the CT voxel grid slice the
same parts along z, so all views agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from vision.xray.materials import Material, get_material
from vision.xray.transmission import MaterialStack

F32 = NDArray[np.float32]


@dataclass
class Part:
    """One material region of an object (see module docstring for the conventions)."""

    material: str
    density: float  # g/cm^3 (bulk density of this part)
    thickness: F32  # (h, w) cm along z, 0 outside the part
    y0: int
    x0: int
    zc: float  # cm above the belt

    def __post_init__(self) -> None:
        if self.thickness.ndim != 2 or self.thickness.dtype != np.float32:
            raise ValueError("part thickness must be a float32 (h, w) array")
        if self.density <= 0:
            raise ValueError("part density must be > 0 g/cm^3")
        get_material(self.material)  # raises on unknown names


@dataclass
class SceneObject:
    """An object of the scene: ``label`` is its annotation class, or None for clutter."""

    kind: str
    label: str | None
    parts: list[Part]
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Scene:
    """A scene in pixel space; see the module docstring for axes and units."""

    kind: str
    height: int
    width: int
    pixel_cm: float
    depth_cm: float
    objects: list[SceneObject] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def add(self, obj: SceneObject) -> SceneObject:
        self.objects.append(obj)
        return obj

    def materials(self) -> tuple[Material, ...]:
        """Materials used by the scene, in first-use order."""
        names: dict[str, None] = {}
        for obj in self.objects:
            for p in obj.parts:
                names.setdefault(p.material, None)
        return tuple(get_material(n) for n in names)


def _clip(part: Part, height: int, width: int) -> tuple[slice, slice, slice, slice] | None:
    h, w = part.thickness.shape
    ys, xs = max(part.y0, 0), max(part.x0, 0)
    ye, xe = min(part.y0 + h, height), min(part.x0 + w, width)
    if ye <= ys or xe <= xs:
        return None
    return (slice(ys, ye), slice(xs, xe),
            slice(ys - part.y0, ye - part.y0), slice(xs - part.x0, xe - part.x0))


def project_top(scene: Scene) -> MaterialStack:
    """Mass thickness (g/cm^2) per material for the top view, float32 (M, H, W)."""
    mats = scene.materials()
    index = {m.name: i for i, m in enumerate(mats)}
    out = np.zeros((len(mats), scene.height, scene.width), dtype=np.float32)
    for obj in scene.objects:
        for p in obj.parts:
            c = _clip(p, scene.height, scene.width)
            if c is None:
                continue
            sy, sx, py, px = c
            out[index[p.material], sy, sx] += p.thickness[py, px] * np.float32(p.density)
    return MaterialStack(mats, out)


def _side_rows(scene: Scene) -> int:
    return max(1, int(np.ceil(scene.depth_cm / scene.pixel_cm)))


def _z_overlap(part_zc: float, half: F32, z_lo: F32, z_hi: F32) -> F32:
    """Overlap (cm) of each column's z-interval [zc - half, zc + half] with each row's
    [z_lo, z_hi]; shape (rows, h, w). Integrating overlaps (not sampling row centres) keeps
    parts thinner than a row and conserves mass."""
    lo = np.float32(part_zc) - half
    hi = np.float32(part_zc) + half
    top = np.minimum(hi[None, :, :], z_hi[:, None, None])
    bottom = np.maximum(lo[None, :, :], z_lo[:, None, None])
    return np.asarray(np.maximum(top - bottom, np.float32(0.0)), dtype=np.float32)


def _part_side(part: Part, pixel_cm: float, n_rows: int, depth_cm: float) -> tuple[int, F32]:
    """Path length (cm along y) per (z row, column) of one part; returns (first row, block)."""
    half = part.thickness * np.float32(0.5)
    t_max = float(half.max()) if half.size else 0.0
    if t_max <= 0:
        return 0, np.zeros((0, half.shape[1]), dtype=np.float32)
    # Row r covers heights [depth - (r + 1) * pixel, depth - r * pixel] (row 0 at the top).
    r0 = max(0, int(np.floor((depth_cm - (part.zc + t_max)) / pixel_cm)))
    r1 = min(n_rows, int(np.ceil((depth_cm - (part.zc - t_max)) / pixel_cm)) + 1)
    if r1 <= r0:
        return 0, np.zeros((0, half.shape[1]), dtype=np.float32)
    z_hi = (depth_cm - np.arange(r0, r1, dtype=np.float32) * pixel_cm).astype(np.float32)
    z_lo = (z_hi - np.float32(pixel_cm)).astype(np.float32)
    overlap = _z_overlap(part.zc, half, z_lo, z_hi)
    return r0, overlap.sum(axis=1, dtype=np.float32)


def project_side(scene: Scene) -> MaterialStack:
    """Side view (beam along y): mass thickness float32 (M, Z_rows, W), row 0 = top."""
    mats = scene.materials()
    index = {m.name: i for i, m in enumerate(mats)}
    n_rows = _side_rows(scene)
    out = np.zeros((len(mats), n_rows, scene.width), dtype=np.float32)
    for obj in scene.objects:
        for p in obj.parts:
            c = _clip(p, scene.height, scene.width)
            if c is None:
                continue
            _, sx, _, px = c
            r0, block = _part_side(p, scene.pixel_cm, n_rows, scene.depth_cm)
            if block.shape[0]:
                out[index[p.material], r0:r0 + block.shape[0], sx] += (
                    block[:, px] * np.float32(p.density)
                )
    return MaterialStack(mats, out)


def object_mask_crop(
    obj: SceneObject, height: int, width: int
) -> tuple[NDArray[np.bool_], int, int]:
    """Union of the object's parts in the top view, cropped: (mask, y0, x0)."""
    boxes = [c for c in (_clip(p, height, width) for p in obj.parts) if c is not None]
    if not boxes:
        return np.zeros((0, 0), dtype=bool), 0, 0
    y0 = min(c[0].start for c in boxes)
    x0 = min(c[1].start for c in boxes)
    y1 = max(c[0].stop for c in boxes)
    x1 = max(c[1].stop for c in boxes)
    mask = np.zeros((y1 - y0, x1 - x0), dtype=bool)
    for p in obj.parts:
        c = _clip(p, height, width)
        if c is not None:
            sy, sx, py, px = c
            mask[sy.start - y0:sy.stop - y0, sx.start - x0:sx.stop - x0] |= p.thickness[py, px] > 0
    return mask, y0, x0


def object_mask(obj: SceneObject, height: int, width: int) -> NDArray[np.bool_]:
    """Union of the object's parts in the top view, bool (H, W)."""
    full = np.zeros((height, width), dtype=bool)
    crop, y0, x0 = object_mask_crop(obj, height, width)
    full[y0:y0 + crop.shape[0], x0:x0 + crop.shape[1]] = crop
    return full


def object_side_mask(obj: SceneObject, scene: Scene) -> NDArray[np.bool_]:
    """Union of the object's parts in the side view, bool (Z_rows, W)."""
    n_rows = _side_rows(scene)
    mask = np.zeros((n_rows, scene.width), dtype=bool)
    for p in obj.parts:
        c = _clip(p, scene.height, scene.width)
        if c is None:
            continue
        _, sx, _, px = c
        r0, block = _part_side(p, scene.pixel_cm, n_rows, scene.depth_cm)
        if block.shape[0]:
            mask[r0:r0 + block.shape[0], sx] |= block[:, px] > 0
    return mask


def mask_box(mask: NDArray[np.bool_]) -> tuple[float, float, float, float] | None:
    """Pixel xyxy box (x1, y1 exclusive-end convention: x2 = last col + 1) of a mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1)


def voxelise(
    scene: Scene, voxel_cm: float, objects: Iterable[SceneObject] | None = None
) -> tuple[NDArray[np.uint8], F32, tuple[Material, ...]]:
    """CT voxel grid of the scene.

    Returns ``(material_index, density, materials)``: uint8 and float32 volumes of shape
    (Y, Z, X) - axis 0 runs along the belt (one CT slice per y), axis 1 is height from the
    top (row 0 = ``depth_cm``), axis 2 is x. Index 0 is empty; index k is ``materials[k-1]``.
    Densities are partial-volume (density x filled fraction of the voxel); where parts share a
    voxel the one contributing more mass wins.
    """
    factor = voxel_cm / scene.pixel_cm
    ny = max(1, int(round(scene.height / factor)))
    nx = max(1, int(round(scene.width / factor)))
    nz = max(1, int(np.ceil(scene.depth_cm / voxel_cm)))
    mats = scene.materials()
    index = {m.name: i + 1 for i, m in enumerate(mats)}
    mat_vol = np.zeros((ny, nz, nx), dtype=np.uint8)
    den_vol = np.zeros((ny, nz, nx), dtype=np.float32)
    z_hi = (scene.depth_cm - np.arange(nz, dtype=np.float32) * voxel_cm).astype(np.float32)
    z_lo = (z_hi - np.float32(voxel_cm)).astype(np.float32)
    for obj in objects if objects is not None else scene.objects:
        for p in obj.parts:
            h, w = p.thickness.shape
            y0, x0 = p.y0 / factor, p.x0 / factor
            hh, ww = max(1, int(round(h / factor))), max(1, int(round(w / factor)))
            t = cv2.resize(p.thickness, (ww, hh), interpolation=cv2.INTER_AREA)
            iy, ix = int(round(y0)), int(round(x0))
            ys, xs = max(iy, 0), max(ix, 0)
            ye, xe = min(iy + hh, ny), min(ix + ww, nx)
            if ye <= ys or xe <= xs:
                continue
            half = t[ys - iy:ye - iy, xs - ix:xe - ix] * np.float32(0.5)
            # partial volume: a voxel holds density * (filled fraction), so thin sheets and
            # blades keep their mass; the denser contribution wins a shared voxel.
            frac = _z_overlap(p.zc, half, z_lo, z_hi) / np.float32(voxel_cm)  # (Z, y, x)
            rho = np.transpose(frac, (1, 0, 2)) * np.float32(p.density)
            sub_m = mat_vol[ys:ye, :, xs:xe]
            sub_d = den_vol[ys:ye, :, xs:xe]
            win = rho > sub_d
            sub_m[win] = index[p.material]
            sub_d[win] = rho[win]
    return mat_vol, den_vol, mats
