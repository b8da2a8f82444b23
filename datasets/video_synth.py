"""A generated patrol clip from a moving camera, with exact ground truth (deterministic per seed).

The world is a flat apron ``map_w x map_h`` metres (map frame: x east, y north, metres; the
GeoJSON of the port map puts its origin at ``origin``). A drone/robot camera flies a smooth
path over it (pose per frame = the sidecar a patrol robot would send); people (0.7 m squares
seen from above) and a vehicle (4.5 x 1.8 m) move on the ground along scripted straight paths.
Frames are rendered with the same ground-plane homography :mod:`vision.video.ground` uses to
geo-tag, so map positions in the ground truth and in the analyzer agree exactly.

Scripted so that events are guaranteed: walker ``A`` enters the restricted zone ``fuel_depot``,
walker ``B`` crosses the tripwire ``fence_line`` northwards (``forward`` = ``"in"``), walker
``C`` and the vehicle stay clear of both. ``expected_events`` holds the event times computed
from the true tracks (centre inside the polygon; centre crossing the segment).

Everything random (texture, walker offsets and speeds, sensor noise) comes from one
``numpy.random.Generator(seed)``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from vision.video.geometry import crossing_sign, point_in_polygon
from vision.video.ground import GeoOrigin, Intrinsics, Pose, ground_to_image_h

U8Image = npt.NDArray[np.uint8]
Point = tuple[float, float]

ZONE = ((14.0, 6.0), (24.0, 6.0), (24.0, 12.0), (14.0, 12.0))
FENCE = ((30.0, 5.5), (38.0, 5.5))  # walking north across it = "in"


@dataclass(frozen=True)
class SynthConfig:
    seed: int = 0
    width: int = 384
    height: int = 216
    fps: float = 10.0
    seconds: float = 16.0
    hfov_deg: float = 60.0
    altitude_m: float = 22.0
    speed_mps: float = 2.0
    map_w: float = 48.0
    map_h: float = 24.0
    px_per_m: float = 16.0
    noise: float = 2.0
    night: bool = False
    origin: tuple[float, float] = (111.9700, 43.6500)  # lon, lat (Erenhot)

    def __post_init__(self) -> None:
        if self.width < 64 or self.height < 48 or self.fps <= 0 or self.seconds <= 0:
            raise ValueError("need width >= 64, height >= 48, fps > 0, seconds > 0")


@dataclass(frozen=True)
class Mover:
    """Straight walk from ``start`` (map m) at ``velocity`` (m/s) between ``t0`` and ``t1``;
    footprint ``size`` (along x, along y) in metres; ``value``: grey level."""

    name: str
    label: str
    start: Point
    velocity: Point
    t0: float
    t1: float
    size: Point
    value: int

    def at(self, t: float) -> Point | None:
        if not self.t0 <= t <= self.t1:
            return None
        dt = t - self.t0
        return (self.start[0] + self.velocity[0] * dt, self.start[1] + self.velocity[1] * dt)

    def corners(self, p: Point) -> list[Point]:
        hx, hy = self.size[0] / 2, self.size[1] / 2
        return [(p[0] - hx, p[1] - hy), (p[0] + hx, p[1] - hy), (p[0] + hx, p[1] + hy),
                (p[0] - hx, p[1] + hy)]


@dataclass
class SynthClip:
    config: SynthConfig
    intrinsics: Intrinsics
    poses: list[Pose]
    movers: list[Mover]
    boxes: list[dict[str, tuple[float, float, float, float]]]  # per frame, visible movers
    expected_events: list[dict[str, Any]]
    zones: dict[str, list[Point]] = field(default_factory=dict)
    tripwires: dict[str, tuple[Point, Point]] = field(default_factory=dict)
    _frames: list[U8Image] = field(default_factory=list, repr=False)

    def frames(self) -> Iterator[U8Image]:
        """BGR ``uint8 [H, W, 3]`` frames in order."""
        yield from self._frames

    def port_map_geojson(self) -> dict[str, Any]:
        """The zones and the tripwire as a GeoJSON FeatureCollection (lon/lat, RFC 7946)."""
        o = GeoOrigin(*self.config.origin)
        feats: list[dict[str, Any]] = []
        for name, poly in self.zones.items():
            ring = [list(o.to_lonlat(*p)) for p in poly]
            ring.append(ring[0])
            feats.append({"type": "Feature", "geometry": {"type": "Polygon",
                                                          "coordinates": [ring]},
                          "properties": {"name": name, "kind": "zone", "restricted": True,
                                         "severity": "high"}})
        for name, (a, b) in self.tripwires.items():
            feats.append({"type": "Feature",
                          "geometry": {"type": "LineString",
                                       "coordinates": [list(o.to_lonlat(*a)),
                                                       list(o.to_lonlat(*b))]},
                          "properties": {"name": name, "kind": "tripwire", "forward": "in",
                                         "backward": "out"}})
        return {"type": "FeatureCollection",
                "properties": {"origin": list(self.config.origin)}, "features": feats}

    def sidecar_lines(self) -> list[str]:
        """One JSON line per frame: the robot pose sidecar (``t`` seconds, map metres, GPS)."""
        o = GeoOrigin(*self.config.origin)
        out = []
        for i, p in enumerate(self.poses):
            lon, lat = o.to_lonlat(p.x, p.y)
            out.append(json.dumps({"frame": i, "t": round(p.t, 4), "x": round(p.x, 4),
                                   "y": round(p.y, 4), "lon": round(lon, 8),
                                   "lat": round(lat, 8), "height_m": round(p.height, 4),
                                   "heading_deg": round(p.heading_deg, 4),
                                   "pitch_deg": p.pitch_deg}))
        return out

    def write(self, folder: Path, codec: str = "MJPG") -> dict[str, Path]:
        """Write ``clip.avi``, ``clip.poses.jsonl``, ``port_map.geojson``, ``truth.json``."""
        folder.mkdir(parents=True, exist_ok=True)
        c = self.config
        paths = {"video": folder / "clip.avi", "sidecar": folder / "clip.poses.jsonl",
                 "map": folder / "port_map.geojson", "truth": folder / "truth.json"}
        vw = cv2.VideoWriter(str(paths["video"]), cv2.VideoWriter.fourcc(*codec), c.fps,
                             (c.width, c.height))
        if not vw.isOpened():
            raise OSError(f"cannot open a {codec} video writer at {paths['video']}")
        for f in self._frames:
            vw.write(f)
        vw.release()
        paths["sidecar"].write_text("\n".join(self.sidecar_lines()) + "\n")
        paths["map"].write_text(json.dumps(self.port_map_geojson(), indent=1))
        truth = {"config": asdict(self.config), "intrinsics": asdict(self.intrinsics),
                 "expected_events": self.expected_events,
                 "movers": [asdict(m) for m in self.movers]}
        paths["truth"].write_text(json.dumps(truth, indent=1))
        return paths


def _ground_texture(c: SynthConfig, rng: np.random.Generator) -> U8Image:
    """Concrete apron: low-frequency blotches, expansion joints every 4 m, a few stains."""
    w, h = int(c.map_w * c.px_per_m), int(c.map_h * c.px_per_m)
    base = rng.normal(0, 1, (h // 16 + 1, w // 16 + 1)).astype(np.float32)
    img = cv2.resize(base, (w, h), interpolation=cv2.INTER_CUBIC) * 14 + 128
    img += rng.normal(0, 4, (h, w)).astype(np.float32)
    step = int(4 * c.px_per_m)
    img[:, ::step] -= 35
    img[::step, :] -= 35
    for _ in range(int(c.map_w * c.map_h / 6)):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        r = int(rng.integers(3, 12))
        cv2.circle(img, (x, y), r, (float(rng.uniform(70, 200)),), -1)
    grey = np.clip(cv2.GaussianBlur(img, (3, 3), 0), 0, 255).astype(np.uint8)
    tint = np.stack([grey, grey, np.clip(grey.astype(np.int16) + 8, 0, 255).astype(np.uint8)],
                    axis=2)
    return np.ascontiguousarray(tint)


def _movers(c: SynthConfig, rng: np.random.Generator) -> list[Mover]:
    def j(spread: float) -> float:
        return float(rng.uniform(-spread, spread))

    return [
        Mover("A", "person", (12.0 + j(0.5), 3.0 + j(0.3)), (0.9 + j(0.1), 0.8 + j(0.1)),
              1.0, c.seconds, (0.7, 0.7), 25),
        Mover("B", "person", (34.0 + j(0.5), 1.0), (0.0, 1.3 + j(0.1)), 6.0, c.seconds,
              (0.7, 0.7), 230),
        Mover("C", "person", (2.0, 14.5 + j(0.3)), (1.2 + j(0.1), 0.0), 0.0, c.seconds,
              (0.7, 0.7), 35),
        Mover("V", "vehicle", (46.0, 3.5), (-3.0 + j(0.2), 0.0), 1.0, c.seconds,
              (4.5, 1.8), 210),
    ]


def _pose(c: SynthConfig, t: float) -> Pose:
    """Camera path: eastwards along the apron, gentle yaw and altitude changes."""
    return Pose(t=t, x=8.0 + c.speed_mps * t, y=9.0 + 1.5 * math.sin(0.25 * t),
                height=c.altitude_m + 1.0 * math.sin(0.4 * t),
                heading_deg=8.0 * math.sin(0.3 * t), pitch_deg=90.0)


def _expected(movers: list[Mover], c: SynthConfig) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    dt = 1.0 / c.fps
    n = int(round(c.seconds * c.fps))
    for m in movers:
        inside_since: float | None = None
        prev: Point | None = None
        for i in range(n):
            t = i * dt
            p = m.at(t)
            if p is None:
                continue
            if point_in_polygon(p, ZONE) and inside_since is None:
                inside_since = t
                out.append({"type": "zone_intrusion", "zone": "fuel_depot", "mover": m.name,
                            "t": round(t, 3), "world": [round(p[0], 2), round(p[1], 2)]})
            if prev is not None:
                s = crossing_sign(prev, p, FENCE[0], FENCE[1])
                if s:
                    # map frame (y north): + side of a -> b (eastwards) is the left = north
                    out.append({"type": "tripwire", "zone": "fence_line", "mover": m.name,
                                "t": round(t, 3), "direction": "in" if s > 0 else "out",
                                "world": [round(p[0], 2), round(p[1], 2)]})
            prev = p
    return sorted(out, key=lambda e: e["t"])


def generate(config: SynthConfig | None = None) -> SynthClip:
    """Render the clip (``seconds * fps`` frames) and its ground truth."""
    c = config or SynthConfig()
    rng = np.random.default_rng(c.seed)
    world = _ground_texture(c, rng)
    movers = _movers(c, rng)
    k = Intrinsics.from_fov(c.width, c.height, c.hfov_deg)
    # raster pixel (col, row) -> map metres (x, y): north is up in the raster
    r2m = np.array([[1 / c.px_per_m, 0, 0], [0, -1 / c.px_per_m, c.map_h], [0, 0, 1]])
    m2r = np.linalg.inv(r2m)
    n = int(round(c.seconds * c.fps))
    clip = SynthClip(c, k, [], movers, [], _expected(movers, c),
                     zones={"fuel_depot": list(ZONE)}, tripwires={"fence_line": FENCE})
    for i in range(n):
        t = i / c.fps
        pose = _pose(c, t)
        canvas = world.copy()
        boxes: dict[str, tuple[float, float, float, float]] = {}
        h = ground_to_image_h(k, pose)
        for m in movers:
            p = m.at(t)
            if p is None:
                continue
            corners = m.corners(p)
            ras = np.array([(m2r @ np.array([x, y, 1.0]))[:2] for x, y in corners], np.int32)
            cv2.fillPoly(canvas, [ras], (m.value, m.value, m.value))
            img = np.array([(h @ np.array([x, y, 1.0])) for x, y in corners])
            uv = img[:, :2] / img[:, 2:3]
            x1, y1 = uv.min(axis=0)
            x2, y2 = uv.max(axis=0)
            if x2 > 0 and y2 > 0 and x1 < c.width and y1 < c.height:
                boxes[m.name] = (max(0.0, float(x1)), max(0.0, float(y1)),
                                 min(float(c.width), float(x2)), min(float(c.height), float(y2)))
        frame = cv2.warpPerspective(canvas, h @ r2m, (c.width, c.height),
                                    flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        f = frame.astype(np.float32)
        if c.night:
            f *= 0.18
        f += rng.normal(0, c.noise, f.shape).astype(np.float32)
        clip._frames.append(np.clip(f, 0, 255).astype(np.uint8))
        clip.poses.append(pose)
        clip.boxes.append(boxes)
    return clip
