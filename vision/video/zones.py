"""Zones, tripwires and schedules (what a camera's rules are made of).

All coordinates are in one plane per camera: image pixels (x right, y down) for fixed cameras,
or ground metres of the port map (x east, y north) for robot cameras whose pose is known.
A track's position is its *anchor*, the bottom-centre of its box (where it touches the ground).

Tripwire direction: ``forward`` means crossing from the negative to the positive side of the
directed line ``a -> b`` in the sense of :func:`vision.video.geometry.side_of_line`; on screen
(y down) that is from the left of ``a -> b`` to its right; on a map (y north) from its right to
its left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vision.video.geometry import Point, point_in_polygon, polygon_problem, side_of_line
from vision.video.types import LABELS


@dataclass(frozen=True)
class TimeWindow:
    """Active on ``days`` (0 = Monday .. 6 = Sunday) from ``start`` to ``end`` local time;
    ``end <= start`` wraps past midnight (e.g. 22:00-06:00, counted on the starting day)."""

    days: frozenset[int]
    start: time
    end: time

    def __post_init__(self) -> None:
        if not self.days or not self.days <= set(range(7)):
            raise ValueError(f"days must be a non-empty subset of 0..6, got {sorted(self.days)}")

    def contains(self, local: datetime) -> bool:
        t = local.time().replace(tzinfo=None)
        day = local.weekday()
        if self.start < self.end:
            return day in self.days and self.start <= t < self.end
        # Overnight: the evening part belongs to ``day``, the morning part to the day before.
        return ((day in self.days and t >= self.start)
                or ((day - 1) % 7 in self.days and t < self.end))


@dataclass(frozen=True)
class Schedule:
    """A rule is armed when the local time (in IANA ``timezone``) falls in any window."""

    windows: tuple[TimeWindow, ...]
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if not self.windows:
            raise ValueError("a schedule needs at least one time window")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {self.timezone!r}") from exc

    def active(self, when: datetime) -> bool:
        """``when`` must be timezone-aware."""
        if when.tzinfo is None:
            raise ValueError("schedule check needs a timezone-aware datetime")
        local = when.astimezone(ZoneInfo(self.timezone))
        return any(w.contains(local) for w in self.windows)


def _check_labels(classes: frozenset[str]) -> None:
    bad = classes - set(LABELS)
    if bad:
        raise ValueError(f"unknown classes {sorted(bad)}; expected a subset of {LABELS}")


@dataclass(frozen=True)
class Zone:
    """A polygon rule. ``classes``: labels that trigger it (empty = all). ``restricted``: an
    intrusion raises an alarm, not only a finding. ``loiter_s``: dwell time that makes a
    loitering event (None = no loitering rule). ``min_dwell_s``: time inside before an intrusion
    counts (debounces boxes that graze the edge)."""

    name: str
    polygon: tuple[Point, ...]
    restricted: bool = False
    classes: frozenset[str] = frozenset()
    loiter_s: float | None = None
    min_dwell_s: float = 0.3
    schedule: Schedule | None = None
    severity: str = "medium"

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("zone name must not be empty")
        problem = polygon_problem(self.polygon)
        if problem:
            raise ValueError(f"zone {self.name!r}: {problem}")
        _check_labels(self.classes)
        if self.loiter_s is not None and self.loiter_s <= 0:
            raise ValueError(f"zone {self.name!r}: loiter_s must be > 0")
        if self.min_dwell_s < 0:
            raise ValueError(f"zone {self.name!r}: min_dwell_s must be >= 0")

    def contains(self, p: Point) -> bool:
        return point_in_polygon(p, self.polygon)

    def applies_to(self, label: str) -> bool:
        return not self.classes or label in self.classes

    def armed(self, when: datetime | None) -> bool:
        return self.schedule is None or when is None or self.schedule.active(when)


@dataclass(frozen=True)
class Tripwire:
    """A directed segment ``a -> b``; ``alarm_on``: the direction names that alarm (empty:
    crossings are findings only). ``margin``: hysteresis in plane units: a crossing counts only
    once the anchor is farther than this from the line on the new side (a box whose bottom
    jitters on the line does not fire again and again). ``repeat``: when False a track crosses
    at most once per direction (counting); when True every crossing is reported."""

    name: str
    a: Point
    b: Point
    forward: str = "forward"
    backward: str = "backward"
    classes: frozenset[str] = frozenset()
    alarm_on: frozenset[str] = frozenset()
    schedule: Schedule | None = None
    severity: str = "medium"
    margin: float = 0.0
    repeat: bool = False

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("tripwire name must not be empty")
        if self.margin < 0:
            raise ValueError(f"tripwire {self.name!r}: margin must be >= 0")
        if self.a == self.b:
            raise ValueError(f"tripwire {self.name!r}: the two end points are the same")
        if self.forward == self.backward:
            raise ValueError(f"tripwire {self.name!r}: direction names must differ")
        _check_labels(self.classes)
        bad = self.alarm_on - {self.forward, self.backward}
        if bad:
            raise ValueError(f"tripwire {self.name!r}: alarm_on {sorted(bad)} is not "
                             f"{self.forward!r} or {self.backward!r}")

    def applies_to(self, label: str) -> bool:
        return not self.classes or label in self.classes

    def armed(self, when: datetime | None) -> bool:
        return self.schedule is None or when is None or self.schedule.active(when)

    def signed_distance(self, p: Point) -> float:
        """Distance of ``p`` from the line through ``a, b``, signed as ``side_of_line``."""
        length = math.hypot(self.b[0] - self.a[0], self.b[1] - self.a[1])
        return side_of_line(p, self.a, self.b) / length


@dataclass(frozen=True)
class Rules:
    """Every rule of one camera, in one coordinate plane."""

    zones: tuple[Zone, ...] = ()
    tripwires: tuple[Tripwire, ...] = ()
    names: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        names = [z.name for z in self.zones] + [w.name for w in self.tripwires]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"duplicate rule names: {dup}")
        object.__setattr__(self, "names", frozenset(names))

    def outside_frame(self, width: float, height: float) -> list[str]:
        """Names of rules that lie wholly or partly outside a ``width x height`` image.

        A zone must have every vertex inside ``[0, width] x [0, height]``; a tripwire both end
        points. (Used for pixel-plane rules only; map-plane rules are checked against the map.)
        """
        def inside(p: Point) -> bool:
            return 0 <= p[0] <= width and 0 <= p[1] <= height

        bad = [z.name for z in self.zones if not all(inside(p) for p in z.polygon)]
        bad += [w.name for w in self.tripwires if not (inside(w.a) and inside(w.b))]
        return bad

