"""The port map: restricted zones and tripwires in world coordinates, as GeoJSON (RFC 7946).

Robot and drone cameras move, so their rules live on the map, not in the image. The map is a
``FeatureCollection`` in WGS84 lon/lat. ``Polygon`` features are zones and ``LineString``
features with two points are tripwires; each feature's ``properties`` take the same keys as the
entries of ``zones.json`` (``name``, ``restricted``, ``classes``, ``loiter_s``, ``severity``,
``schedule``; for tripwires ``forward``, ``backward``, ``alarm_on``, ``margin`` in metres).
The map origin (lon, lat) for the local metric frame comes from the collection's foreign member
``"properties": {"origin": [lon, lat]}``, or else the first vertex of the first feature.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kouan.errors import UsageError
from pipelines.video.config import RulesFile, parse_rules
from vision.video.ground import GeoOrigin

_RULE_KEYS = {"kind", "name"}


@dataclass(frozen=True)
class PortMap:
    origin: GeoOrigin
    rules: RulesFile  # plane "map", coordinates in metres east/north of ``origin``


def _lonlat(v: Any, where: str) -> tuple[float, float]:
    if (not isinstance(v, list | tuple) or len(v) < 2
            or not all(isinstance(c, int | float) for c in v[:2])):
        raise UsageError(f"{where}: coordinates must be [lon, lat] numbers")
    lon, lat = float(v[0]), float(v[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise UsageError(f"{where}: [{lon}, {lat}] is not a lon/lat position (RFC 7946 order "
                         "is longitude first)")
    return lon, lat


def _first_position(feature: Any) -> Any:
    """The first [lon, lat] of a Polygon or LineString feature (None if there is none)."""
    try:
        geom = feature["geometry"]
        coords = geom["coordinates"]
        return coords[0][0] if geom["type"] == "Polygon" else coords[0]
    except (KeyError, IndexError, TypeError):
        return None


def parse_port_map(doc: Any, analysis: dict[str, Any] | None = None,
                   timezone: str = "Asia/Shanghai", camera: str = "robot") -> PortMap:
    """Validate a GeoJSON document and convert it to map-plane rules."""
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise UsageError("port map: expected a GeoJSON FeatureCollection")
    feats = doc.get("features")
    if not isinstance(feats, list) or not feats:
        raise UsageError("port map: no features")
    for i, f in enumerate(feats):
        if not isinstance(f, dict) or f.get("type") != "Feature":
            raise UsageError(f"port map feature {i}: not a GeoJSON Feature")
        kind = (f.get("geometry") or {}).get("type")
        if kind not in ("Polygon", "LineString"):
            raise UsageError(f"port map feature {i}: geometry {kind!r} is not Polygon or "
                             "LineString")
    props = doc.get("properties")
    if isinstance(props, dict) and "origin" in props:
        origin = GeoOrigin(*_lonlat(props["origin"], "port map origin"))
    else:
        origin = GeoOrigin(*_lonlat(_first_position(feats[0]), "feature 0"))
    zones: list[dict[str, Any]] = []
    wires: list[dict[str, Any]] = []
    for i, f in enumerate(feats):
        geom, p = f["geometry"], dict(f.get("properties") or {})
        where = f"port map feature {i} ({p.get('name', 'unnamed')})"
        extra = {k: v for k, v in p.items() if k not in _RULE_KEYS}
        if geom.get("type") == "Polygon":
            rings = geom.get("coordinates")
            if not isinstance(rings, list) or not rings or not isinstance(rings[0], list):
                raise UsageError(f"{where}: Polygon needs coordinates [[[lon, lat], ...]]")
            ring = [origin.to_map(*_lonlat(c, where)) for c in rings[0]]
            if len(ring) >= 2 and ring[0] == ring[-1]:
                ring = ring[:-1]  # GeoJSON closes rings; our polygons are implicitly closed
            zones.append({"name": p.get("name", f"zone{i}"), "polygon": ring, **extra})
        else:  # LineString (checked above)
            pts = geom.get("coordinates")
            if not isinstance(pts, list) or len(pts) != 2:
                raise UsageError(f"{where}: a tripwire LineString needs exactly 2 positions")
            a, b = (origin.to_map(*_lonlat(c, where)) for c in pts)
            wires.append({"name": p.get("name", f"wire{i}"), "a": a, "b": b,
                          **({"margin": 0.3} | extra)})
    rules = parse_rules({"camera": camera, "plane": "map", "timezone": timezone,
                         "zones": zones, "tripwires": wires,
                         "analysis": analysis or {"anchor": "center", "ego_motion": True}},
                        "port map")
    return PortMap(origin, rules)


def load_port_map(path: Path, analysis: dict[str, Any] | None = None,
                  timezone: str = "Asia/Shanghai") -> PortMap:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read port map {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    return parse_port_map(doc, analysis, timezone)
