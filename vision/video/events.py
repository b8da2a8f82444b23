"""Zone intrusion, tripwire crossing and loitering events from tracks.

Per frame the caller passes the confirmed tracks and, for each, its anchor in the rules' plane
(image pixels, or map metres for a robot camera). The engine keeps, per track and rule:

- **intrusion**: the track's anchor has been inside the zone for ``min_dwell_s`` -> an event
  opens with ``t_start`` = first time inside; it closes when the anchor has been outside for
  ``exit_grace_s`` or the track is removed (``t_end`` = last time seen inside);
- **loitering**: continuous presence (same grace) of ``loiter_s`` -> a second event opens, with
  the same start, closing like the intrusion;
- **tripwire**: the step between the last anchor that was beyond the wire's ``margin`` and the
  current one (also beyond it) crosses the segment -> an instantaneous event
  (``t_start == t_end``) with the direction name; unless ``repeat``, once per track and
  direction.

Rules whose schedule is not armed, or whose ``classes`` exclude the track's label, are ignored
for new events; an event already open stays open until the object leaves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from vision.video.geometry import Point, crossing_sign
from vision.video.types import Event, EventType, Track
from vision.video.zones import Rules


@dataclass
class EventBatch:
    """Events that opened and that closed during one step (an instantaneous event is in both)."""

    opened: list[Event] = field(default_factory=list)
    closed: list[Event] = field(default_factory=list)

    def extend(self, other: EventBatch) -> None:
        self.opened += other.opened
        self.closed += other.closed


@dataclass
class _Presence:
    entered: float
    last_inside: float
    label: str = ""  # the track's latest label: closed events report it (it firms up over time)
    intrusion: Event | None = None
    loitering: Event | None = None


@dataclass
class _TrackRules:
    presence: dict[str, _Presence] = field(default_factory=dict)
    # per wire: the last anchor farther than the wire's margin from it
    off_line: dict[str, Point] = field(default_factory=dict)
    crossed: set[tuple[str, str]] = field(default_factory=set)  # (wire, direction) done


class Counter:
    """Shared event-id source (events from several engines of one stream get unique ids)."""

    def __init__(self, start: int = 1) -> None:
        self._n = start

    def __call__(self) -> int:
        n = self._n
        self._n += 1
        return n


class EventEngine:
    """Turns tracks into events for one camera's :class:`Rules` (see module docstring)."""

    def __init__(self, rules: Rules, exit_grace_s: float = 1.0,
                 next_id: Callable[[], int] | None = None) -> None:
        if exit_grace_s < 0:
            raise ValueError("exit_grace_s must be >= 0")
        self.rules = rules
        self.exit_grace_s = exit_grace_s
        self._next_id = next_id or Counter()
        self._state: dict[int, _TrackRules] = {}

    def open_events(self) -> list[Event]:
        out: list[Event] = []
        for st in self._state.values():
            for pr in st.presence.values():
                out += [e for e in (pr.intrusion, pr.loitering) if e is not None]
        return out

    def step(self, t: float, tracks: Sequence[Track], anchors: Sequence[Point],
             when: datetime | None = None, removed: Sequence[int] = (),
             world: Sequence[Point | None] | None = None) -> EventBatch:
        """Process one frame at stream time ``t`` (seconds).

        ``anchors[i]``: position of ``tracks[i]`` in the rules' plane; ``when``: wall-clock time
        for schedules (None = always armed); ``removed``: ids the tracker dropped;
        ``world[i]``: optional map position of ``tracks[i]`` copied onto its events.
        """
        if len(anchors) != len(tracks) or (world is not None and len(world) != len(tracks)):
            raise ValueError("anchors (and world, when given) need one entry per track")
        batch = EventBatch()
        seen: set[int] = set()
        for i, (tr, p) in enumerate(zip(tracks, anchors, strict=True)):
            seen.add(tr.track_id)
            st = self._state.setdefault(tr.track_id, _TrackRules())
            w = world[i] if world is not None else None
            self._zones(t, tr, p, w, when, st, batch)
            self._wires(t, tr, p, w, when, st, batch)
        for tid, st in list(self._state.items()):
            if tid in removed:
                self._close_all(st, batch)
                del self._state[tid]
            elif tid not in seen:
                self._expire(t, st, batch)
        return batch

    def finish(self) -> EventBatch:
        """End of stream: close every open event."""
        batch = EventBatch()
        for st in self._state.values():
            self._close_all(st, batch)
        self._state.clear()
        return batch

    def _new(self, kind: EventType, t0: float, tr: Track, zone: str,
             w: Point | None, direction: str | None = None) -> Event:
        return Event(event_id=self._next_id(), type=kind, t_start=t0, t_end=None,
                     track_id=tr.track_id, zone=zone, box=tr.box, label=tr.label,
                     direction=direction, world=w)

    def _zones(self, t: float, tr: Track, p: Point, w: Point | None, when: datetime | None,
               st: _TrackRules, batch: EventBatch) -> None:
        for z in self.rules.zones:
            pr = st.presence.get(z.name)
            if z.contains(p):
                if pr is None:
                    pr = st.presence[z.name] = _Presence(entered=t, last_inside=t)
                pr.last_inside = t
                pr.label = tr.label
                live = z.applies_to(tr.label) and z.armed(when)
                if live and pr.intrusion is None and t - pr.entered >= z.min_dwell_s:
                    pr.intrusion = self._new(EventType.ZONE_INTRUSION, pr.entered, tr, z.name, w)
                    batch.opened.append(pr.intrusion)
                if (live and z.loiter_s is not None and pr.loitering is None
                        and t - pr.entered >= z.loiter_s):
                    pr.loitering = self._new(EventType.LOITERING, pr.entered, tr, z.name, w)
                    pr.loitering.extra["dwell_s"] = round(t - pr.entered, 2)
                    batch.opened.append(pr.loitering)
            elif pr is not None and t - pr.last_inside > self.exit_grace_s:
                self._close(pr, batch)
                del st.presence[z.name]

    def _wires(self, t: float, tr: Track, p: Point, w: Point | None, when: datetime | None,
               st: _TrackRules, batch: EventBatch) -> None:
        for wire in self.rules.tripwires:
            dist = wire.signed_distance(p)
            if dist == 0 or abs(dist) <= wire.margin:
                continue  # on the line or inside the hysteresis band: wait for the side it takes
            prev = st.off_line.get(wire.name)
            st.off_line[wire.name] = p
            if prev is None:
                continue
            sign = crossing_sign(prev, p, wire.a, wire.b)
            if sign == 0 or not wire.applies_to(tr.label) or not wire.armed(when):
                continue
            direction = wire.forward if sign > 0 else wire.backward
            if not wire.repeat:
                if (wire.name, direction) in st.crossed:
                    continue
                st.crossed.add((wire.name, direction))
            ev = self._new(EventType.TRIPWIRE, t, tr, wire.name, w, direction)
            ev.t_end = t
            batch.opened.append(ev)
            batch.closed.append(ev)

    @staticmethod
    def _close(pr: _Presence, batch: EventBatch) -> None:
        for ev in (pr.intrusion, pr.loitering):
            if ev is not None:
                ev.t_end = pr.last_inside
                ev.label = pr.label or ev.label
                batch.closed.append(ev)

    def _close_all(self, st: _TrackRules, batch: EventBatch) -> None:
        for pr in st.presence.values():
            self._close(pr, batch)
        st.presence.clear()

    def _expire(self, t: float, st: _TrackRules, batch: EventBatch) -> None:
        """A track not reported this frame (coasting): close zones it left long enough ago."""
        for name, pr in list(st.presence.items()):
            if t - pr.last_inside > self.exit_grace_s:
                self._close(pr, batch)
                del st.presence[name]
