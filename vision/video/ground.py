"""Pinhole camera over a flat ground: image pixels <-> map metres, for geo-tagging robot events.

Frames and conventions:

- map (world): x east, y north, z up, metres, origin at the port map's reference point;
- camera: OpenCV (x right, y down, z forward), intrinsics ``fx, fy, cx, cy`` in pixels of the
  full frame;
- pose: camera centre ``(x, y)`` on the map and ``height`` above the ground (m); ``heading_deg``
  is the compass heading of the optical axis (0 = north, 90 = east, clockwise); ``pitch_deg`` is
  the depression below the horizon (0 = level, 90 = straight down, as a drone's nadir camera).

The ground plane ``z = 0`` maps to the image by the homography ``H = K [r1 r2 t]``;
:func:`image_to_ground` inverts it and returns ``None`` for pixels at or above the horizon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Mat3 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Intrinsics:
    fx: float
    fy: float
    cx: float
    cy: float

    def __post_init__(self) -> None:
        if self.fx <= 0 or self.fy <= 0:
            raise ValueError("focal lengths must be > 0 pixels")

    def matrix(self) -> Mat3:
        return np.array([[self.fx, 0, self.cx], [0, self.fy, self.cy], [0, 0, 1]], np.float64)

    @staticmethod
    def from_fov(width: int, height: int, hfov_deg: float) -> Intrinsics:
        """Square pixels, principal point at the image centre, horizontal field of view."""
        if not 1.0 < hfov_deg < 179.0:
            raise ValueError("hfov_deg must be in (1, 179)")
        f = (width / 2.0) / math.tan(math.radians(hfov_deg) / 2.0)
        return Intrinsics(f, f, width / 2.0, height / 2.0)


@dataclass(frozen=True)
class Pose:
    """Camera pose on the map (see module docstring); ``t`` is the stream time in seconds."""

    t: float
    x: float
    y: float
    height: float
    heading_deg: float
    pitch_deg: float

    def __post_init__(self) -> None:
        if self.height <= 0:
            raise ValueError("camera height above ground must be > 0 metres")
        if not 0.0 < self.pitch_deg <= 90.0:
            raise ValueError("pitch_deg must be in (0, 90]: the camera must look down")


def camera_to_world(pose: Pose) -> Mat3:
    """Rotation ``R_wc`` (``[3, 3]``) whose columns are the camera x, y, z axes on the map."""
    h, p = math.radians(pose.heading_deg), math.radians(pose.pitch_deg)
    fwd = np.array([math.sin(h) * math.cos(p), math.cos(h) * math.cos(p), -math.sin(p)])
    right = np.array([math.cos(h), -math.sin(h), 0.0])
    down = np.cross(fwd, right)
    out: Mat3 = np.stack([right, down, fwd], axis=1)
    return out


def ground_to_image_h(k: Intrinsics, pose: Pose) -> Mat3:
    """Homography ``[3, 3]`` from map ``(x, y, 1)`` on the ground to image ``(u, v, 1)``."""
    r_cw = camera_to_world(pose).T
    c = np.array([pose.x, pose.y, pose.height])
    t = -r_cw @ c
    h = k.matrix() @ np.stack([r_cw[:, 0], r_cw[:, 1], t], axis=1)
    out: Mat3 = h / h[2, 2] if abs(h[2, 2]) > 1e-12 else h
    return out


def image_to_ground(k: Intrinsics, pose: Pose, u: float, v: float) -> tuple[float, float] | None:
    """Map point where the ray through pixel ``(u, v)`` meets the ground; ``None`` if the ray
    does not go down (at or above the horizon)."""
    ray_c = np.array([(u - k.cx) / k.fx, (v - k.cy) / k.fy, 1.0])
    ray_w = camera_to_world(pose) @ ray_c
    if ray_w[2] >= -1e-9:
        return None
    s = pose.height / -ray_w[2]
    return (float(pose.x + s * ray_w[0]), float(pose.y + s * ray_w[1]))


def ground_to_image(k: Intrinsics, pose: Pose, x: float, y: float) -> tuple[float, float] | None:
    """Pixel of map point ``(x, y, 0)``; ``None`` when it is behind the camera."""
    p = ground_to_image_h(k, pose) @ np.array([x, y, 1.0])
    if p[2] <= 1e-12:
        return None
    return (float(p[0] / p[2]), float(p[1] / p[2]))


_EARTH_R = 6_371_008.8  # mean Earth radius, metres


@dataclass(frozen=True)
class GeoOrigin:
    """Reference point of a port map: map metres ``(x east, y north)`` <-> WGS84 degrees by a
    local equirectangular projection (error < 1 cm over a few km, plenty for a port)."""

    lon: float
    lat: float

    def __post_init__(self) -> None:
        if not (-180.0 <= self.lon <= 180.0 and -85.0 <= self.lat <= 85.0):
            raise ValueError(f"origin ({self.lon}, {self.lat}) is not a valid lon/lat")

    def to_map(self, lon: float, lat: float) -> tuple[float, float]:
        x = math.radians(lon - self.lon) * _EARTH_R * math.cos(math.radians(self.lat))
        y = math.radians(lat - self.lat) * _EARTH_R
        return (x, y)

    def to_lonlat(self, x: float, y: float) -> tuple[float, float]:
        lon = self.lon + math.degrees(x / (_EARTH_R * math.cos(math.radians(self.lat))))
        lat = self.lat + math.degrees(y / _EARTH_R)
        return (lon, lat)
