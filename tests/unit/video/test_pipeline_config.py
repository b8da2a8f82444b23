from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kouan.errors import UsageError
from pipelines.video.config import load_rules, parse_rules
from pipelines.video.portmap import parse_port_map

GOOD: dict[str, Any] = {
    "camera": "cam-1",
    "zones": [{"name": "depot", "polygon": [[10, 10], [100, 10], [100, 80], [10, 80]],
               "restricted": True, "classes": ["person"], "loiter_s": 5,
               "schedule": [{"days": ["mon", "fri"], "start": "22:00", "end": "06:00"}]}],
    "tripwires": [{"name": "gate", "a": [120, 0], "b": [120, 100], "forward": "in",
                   "backward": "out", "alarm_on": ["in"]}],
    "abandoned": {"after_s": 20},
}


def test_good_file_round_trip(tmp_path: Path) -> None:
    p = tmp_path / "zones.json"
    p.write_text(json.dumps(GOOD))
    rf = load_rules(p)
    rules = rf.rules()
    assert [z.name for z in rules.zones] == ["depot"] and rules.zones[0].schedule is not None
    assert rules.tripwires[0].alarm_on == frozenset({"in"})
    cfg = rf.analyzer_config(10.0, (160, 120))
    assert cfg.abandoned is not None and cfg.abandoned.abandoned_s == 20
    rf.check_frame(160, 120)
    with pytest.raises(UsageError, match="depot, gate lie outside the 100x60 frame"):
        rf.check_frame(100, 60)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"zones": [{"name": "bow", "polygon": [[0, 0], [10, 10], [10, 0], [0, 10]]}]},
         "'bow'.*crosses itself"),
        ({"zones": [{"name": "z", "polygon": [[0, 0], [1, 1]]}]}, "at least 3"),
        ({"colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"zones": [{"name": "z", "polygon": [[0, 0], [9, 0], [9, 9]],
                     "schedule": [{"days": ["funday"], "start": "1:00", "end": "2:00"}]}]},
         "unknown day"),
        ({"timezone": "Mars/Base"}, "unknown timezone"),
        ({"tripwires": [{"name": "w", "a": [0, 0], "b": [0, 0]}]}, "same"),
        ({"tripwires": [{"name": "w", "a": [0, 0], "b": [5, 0], "alarm_on": ["up"]}]},
         "alarm_on"),
        ({"zones": [{"name": "z", "polygon": [[0, 0], [9, 0], [9, 9]], "classes": ["cat"]}]},
         "classes"),
    ],
)
def test_bad_rules_are_refused_with_a_reason(patch: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_rules({**GOOD, **patch})


def test_unreadable_rules_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read"):
        load_rules(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UsageError, match="not valid JSON"):
        load_rules(bad)


def test_map_plane_needs_a_field_of_view() -> None:
    rf = parse_rules({"plane": "map", "zones": GOOD["zones"]})
    with pytest.raises(UsageError, match="hfov"):
        rf.analyzer_config(10.0, (320, 180))


def _feature(geometry: str, coords: Any, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": {"type": geometry, "coordinates": coords},
            "properties": props}


def test_port_map_converts_lonlat_to_metres() -> None:
    from vision.video.ground import GeoOrigin

    o = GeoOrigin(111.97, 43.65)
    square = [list(o.to_lonlat(x, y)) for x, y in [(10, 5), (20, 5), (20, 15), (10, 15), (10, 5)]]
    wire = [list(o.to_lonlat(0, 0)), list(o.to_lonlat(0, 30))]
    pm = parse_port_map({"type": "FeatureCollection", "properties": {"origin": [111.97, 43.65]},
                         "features": [_feature("Polygon", [square], name="yard", restricted=True),
                                      _feature("LineString", wire, name="fence", kind="tripwire",
                                               forward="in", backward="out")]})
    rules = pm.rules.rules()
    assert pm.rules.plane == "map"
    flat = [c for p in rules.zones[0].polygon for c in p]
    assert flat == pytest.approx([10, 5, 20, 5, 20, 15, 10, 15], abs=0.01)
    assert rules.zones[0].restricted and rules.tripwires[0].forward == "in"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"type": "Feature"}, "FeatureCollection"),
        ({"type": "FeatureCollection", "features": []}, "no features"),
        ({"type": "FeatureCollection",
          "features": [_feature("Point", [111.0, 43.0], name="p")]}, "not Polygon"),
        ({"type": "FeatureCollection",
          "features": [_feature("LineString", [[111.0, 43.0], [111.1, 43.0], [111.2, 43.0]])]},
         "exactly 2"),
        ({"type": "FeatureCollection",
          "features": [_feature("Polygon", [[[43.6, 111.9], [43.7, 111.9], [43.7, 112.0]]])]},
         "longitude first"),
    ],
)
def test_bad_port_maps(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_port_map(doc)
