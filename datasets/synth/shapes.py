"""Drawing helpers: an object frame on a scene patch and thickness profiles.

An object is designed in its own frame in cm: ``u`` along its long axis, ``v`` across it.
:class:`Frame` places that frame in the scene (centre pixel, in-plane angle, mirror, and an
out-of-plane tilt that foreshortens ``v`` by ``cos(tilt)`` and thickens the part by
``1/cos(tilt)``) and rasterises shapes onto the patch that bounds the object.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from datasets.synth.geometry import Part

F32 = NDArray[np.float32]
Mask = NDArray[np.bool_]
Points = Sequence[tuple[float, float]]

_SHIFT = 4  # cv2 fixed-point bits for sub-pixel polygon vertices


@dataclass(frozen=True)
class Placement:
    """Where an object goes: pixel centre, height of its centre above the belt (cm),
    in-plane angle and out-of-plane tilt (radians), mirror flag, and the scene pixel size."""

    cx: float
    cy: float
    zc: float
    angle: float
    pixel_cm: float
    flip: bool = False
    tilt: float = 0.0

    def frame(self, radius_cm: float) -> Frame:
        return Frame(self.cx, self.cy, self.angle, self.pixel_cm, radius_cm, self.flip,
                     self.tilt)

    def coarse(self, factor: int) -> Placement:
        """The same placement on a grid ``factor`` times coarser (see :func:`refine_part`)."""
        return Placement(self.cx / factor, self.cy / factor, self.zc, self.angle,
                         self.pixel_cm * factor, self.flip, self.tilt)


def refine_part(part: Part, factor: int) -> Part:
    """Bring a part built on a :meth:`Placement.coarse` grid back to scene pixels (bilinear).
    Smooth soft objects (clothes) are built at half resolution: 4x fewer pixel operations."""
    h, w = part.thickness.shape
    fine = cv2.resize(part.thickness, (w * factor, h * factor), interpolation=cv2.INTER_LINEAR)
    return Part(part.material, part.density, np.asarray(fine, dtype=np.float32),
                part.y0 * factor, part.x0 * factor, part.zc)


@dataclass
class Frame:
    """Object frame on a scene patch (see module docstring).

    ``cx, cy`` pixel centre in the scene, ``angle`` radians (u axis direction, counter-clockwise
    in image coordinates with y down), ``radius_cm`` bounds the object, ``tilt`` radians.
    """

    cx: float
    cy: float
    angle: float
    pixel_cm: float
    radius_cm: float
    flip: bool = False
    tilt: float = 0.0
    y0: int = field(init=False)
    x0: int = field(init=False)
    h: int = field(init=False)
    w: int = field(init=False)
    _uv: tuple[F32, F32] | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        r = self.radius_cm / self.pixel_cm + 2.0
        self.x0 = int(math.floor(self.cx - r))
        self.y0 = int(math.floor(self.cy - r))
        self.w = int(math.ceil(self.cx + r)) - self.x0
        self.h = int(math.ceil(self.cy + r)) - self.y0

    @property
    def squash(self) -> float:
        return max(math.cos(self.tilt), 0.2)

    @property
    def thicken(self) -> float:
        """Thickness factor of a flat object tilted out of the image plane."""
        return 1.0 / self.squash

    @property
    def uv(self) -> tuple[F32, F32]:
        """Object-frame coordinates (cm) of every patch pixel centre, float32 (h, w) each."""
        if self._uv is None:
            xs = (np.arange(self.w, dtype=np.float32) + 0.5 + self.x0 - self.cx) * self.pixel_cm
            ys = (np.arange(self.h, dtype=np.float32) + 0.5 + self.y0 - self.cy) * self.pixel_cm
            c, s = np.float32(math.cos(self.angle)), np.float32(math.sin(self.angle))
            u = xs[None, :] * c + ys[:, None] * s
            sign = np.float32((-1.0 if self.flip else 1.0) / self.squash)
            v = (ys[:, None] * (c * sign)) - xs[None, :] * (s * sign)
            self._uv = (u.astype(np.float32, copy=False), v.astype(np.float32, copy=False))
        return self._uv

    def to_patch(self, points: Points) -> NDArray[np.float64]:
        """Object-frame points (cm) -> patch pixel coordinates (x, y), float (N, 2)."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        u, v = p[:, 0], p[:, 1] * (-1.0 if self.flip else 1.0) * self.squash
        c, s = math.cos(self.angle), math.sin(self.angle)
        dx, dy = u * c - v * s, u * s + v * c
        return np.stack(
            [dx / self.pixel_cm + self.cx - self.x0, dy / self.pixel_cm + self.cy - self.y0],
            axis=1,
        )

    def _blank(self) -> NDArray[np.uint8]:
        return np.zeros((self.h, self.w), dtype=np.uint8)

    def poly(self, points: Points) -> Mask:
        """Filled polygon given in object-frame cm."""
        img = self._blank()
        pts = np.rint((self.to_patch(points) - 0.5) * (1 << _SHIFT)).astype(np.int32)
        cv2.fillPoly(img, [pts], (1,), lineType=cv2.LINE_8, shift=_SHIFT)
        return img.astype(bool)

    def polyline(self, points: Points, width_cm: float, closed: bool = False) -> Mask:
        """Stroke of ``width_cm`` along an object-frame polyline."""
        img = self._blank()
        pts = np.rint((self.to_patch(points) - 0.5) * (1 << _SHIFT)).astype(np.int32)
        thick = max(1, int(round(width_cm / self.pixel_cm)))
        cv2.polylines(img, [pts], closed, (1,), thickness=thick, lineType=cv2.LINE_8,
                      shift=_SHIFT)
        return img.astype(bool)

    def rect(self, u0: float, u1: float, v0: float, v1: float) -> Mask:
        """Rectangle u0..u1 x v0..v1 (object-frame cm), rasterised as a polygon."""
        return self.poly([(u0, v0), (u1, v0), (u1, v1), (u0, v1)])

    def tube(self, u0: float, u1: float, vc: float, r_out: float, r_in: float = 0.0) -> F32:
        """Path length (cm) through a cylinder (``r_in`` = 0) or tube lying along u from u0 to
        u1 at v = vc. Evaluated only in the window around it, zeros elsewhere."""
        mask = self.rect(u0, u1, vc - r_out, vc + r_out)
        out = np.zeros((self.h, self.w), dtype=np.float32)
        corners = self.to_patch([(u0, vc - r_out), (u1, vc - r_out), (u1, vc + r_out),
                                 (u0, vc + r_out)])
        c0, r0 = np.floor(corners.min(axis=0)).astype(int) - 1
        c1, r1 = np.ceil(corners.max(axis=0)).astype(int) + 2
        r0, c0 = max(int(r0), 0), max(int(c0), 0)
        r1, c1 = min(int(r1), self.h), min(int(c1), self.w)
        if r1 <= r0 or c1 <= c0:
            return out
        xs = (np.arange(c0, c1, dtype=np.float32) + 0.5 + self.x0 - self.cx) * self.pixel_cm
        ys = (np.arange(r0, r1, dtype=np.float32) + 0.5 + self.y0 - self.cy) * self.pixel_cm
        c, s = np.float32(math.cos(self.angle)), np.float32(math.sin(self.angle))
        sign = np.float32((-1.0 if self.flip else 1.0) / self.squash)
        v = ys[:, None] * (c * sign) - xs[None, :] * (s * sign)
        dist = np.abs(v - np.float32(vc))
        chord = cylinder_chord(dist, r_out)
        if r_in > 0:
            chord = chord - cylinder_chord(dist, r_in)
        out[r0:r1, c0:c1] = chord * mask[r0:r1, c0:c1]
        return out

    def ellipse(self, uc: float, vc: float, a: float, b: float) -> Mask:
        """Ellipse with semi-axes a (along u) and b (along v), rasterised as a 32-gon."""
        k = np.linspace(0.0, 2.0 * math.pi, 32, endpoint=False)
        return self.poly(list(zip((uc + a * np.cos(k)).tolist(), (vc + b * np.sin(k)).tolist(),
                                  strict=True)))

    def part(self, material: str, density: float, thickness: F32 | Mask, zc: float,
             t: float = 1.0) -> Part:
        """A :class:`Part` on this patch. ``thickness`` is a cm map, or a mask times ``t`` cm.

        Tilt thickening is applied here.
        """
        nz = thickness if thickness.dtype == bool else thickness > 0
        # Crop to the non-zero bounding box first: parts of one object share a large patch.
        rows = np.flatnonzero(nz.any(axis=1))
        if rows.size == 0:
            return Part(material, density, np.zeros((1, 1), np.float32), self.y0, self.x0, zc)
        cols = np.flatnonzero(nz[rows[0]:rows[-1] + 1].any(axis=0))
        window = thickness[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        scale = np.float32((t if thickness.dtype == bool else 1.0) * self.thicken)
        crop = np.multiply(window, scale, dtype=np.float32)
        return Part(material, density, crop, self.y0 + int(rows[0]), self.x0 + int(cols[0]), zc)


def cylinder_chord(distance_cm: F32, radius_cm: float) -> F32:
    """Path length (cm) through a cylinder (axis in the image plane) at a distance from it."""
    r2 = np.float32(radius_cm * radius_cm)
    chord = 2.0 * np.sqrt(np.maximum(r2 - distance_cm * distance_cm, 0.0))
    return np.asarray(chord, dtype=np.float32)


def tube_chord(distance_cm: F32, r_out: float, r_in: float) -> F32:
    """Path length through the wall of a tube (hollow cylinder), cm."""
    return (cylinder_chord(distance_cm, r_out) - cylinder_chord(distance_cm, r_in)).astype(
        np.float32
    )


def ellipsoid_chord(frame: Frame, uc: float, vc: float, a: float, b: float, c: float) -> F32:
    """Path length through an ellipsoid with semi-axes a (u), b (v), c (z), cm."""
    u, v = frame.uv
    q = 1.0 - ((u - uc) / a) ** 2 - ((v - vc) / b) ** 2
    return np.asarray(2.0 * c * np.sqrt(np.maximum(q, 0.0)), dtype=np.float32)


def value_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> F32:
    """Smooth noise in [0, 1], float32 ``shape``: a ``cells``-wide random grid, upsampled."""
    h, w = shape
    gh, gw = max(2, h * cells // max(h, w) + 2), max(2, w * cells // max(h, w) + 2)
    grid = rng.random((gh, gw), dtype=np.float32)
    up = cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(up, 0.0, 1.0).astype(np.float32)


def rounded_rect_points(
    half_u: float, half_v: float, radius: float, n_arc: int = 6
) -> list[tuple[float, float]]:
    """Vertices of a rounded rectangle centred at the origin (object-frame cm)."""
    r = min(radius, half_u, half_v)
    pts: list[tuple[float, float]] = []
    corners = ((half_u - r, half_v - r, 0.0), (-half_u + r, half_v - r, 90.0),
               (-half_u + r, -half_v + r, 180.0), (half_u - r, -half_v + r, 270.0))
    for cu, cv, start in corners:
        for k in range(n_arc + 1):
            a = math.radians(start + 90.0 * k / n_arc)
            pts.append((cu + r * math.cos(a), cv + r * math.sin(a)))
    return pts
