from __future__ import annotations

from datetime import UTC, datetime, time

from tests.unit.video.factories import track
from vision.video.events import EventEngine
from vision.video.types import EventType
from vision.video.zones import Rules, Schedule, TimeWindow, Tripwire, Zone

ZONE = Zone("yard", ((100.0, 100.0), (200.0, 100.0), (200.0, 200.0), (100.0, 200.0)),
            restricted=True, loiter_s=3.0, min_dwell_s=0.5)
WIRE = Tripwire("gate", (150.0, 0.0), (150.0, 90.0), forward="in", backward="out", margin=2.0)


def box_at(x: float, y: float) -> tuple[float, float, float, float]:
    """A 20x40 box whose bottom-centre anchor is at (x, y)."""
    return (x - 10, y - 40, x + 10, y)


def run(engine: EventEngine, path: list[tuple[float, float]], dt: float = 0.1, tid: int = 1,
        label: str = "person", when: datetime | None = None) -> tuple[list, list]:
    opened, closed = [], []
    for i, p in enumerate(path):
        tr = track(tid, box_at(*p), label)
        b = engine.step(i * dt, [tr], [tr.anchor], when)
        opened += b.opened
        closed += b.closed
    f = engine.finish()
    return opened, closed + f.closed


def test_intrusion_opens_after_dwell_and_closes_on_exit() -> None:
    path = [(50.0 + 10 * i, 150.0) for i in range(30)]  # inside for x in [100, 200]: i = 5..15
    opened, closed = run(EventEngine(Rules(zones=(ZONE,)), exit_grace_s=0.3), path)
    intr = [e for e in opened if e.type is EventType.ZONE_INTRUSION]
    assert len(intr) == 1
    ev = intr[0]
    assert ev.t_start == 0.5 and ev.zone == "yard" and ev.track_id == 1
    assert ev in closed and ev.t_end == 1.5  # last time inside
    assert not [e for e in opened if e.type is EventType.LOITERING]  # 1 s < 3 s


def test_loitering_needs_continuous_presence() -> None:
    path = [(150.0, 150.0)] * 50
    opened, closed = run(EventEngine(Rules(zones=(ZONE,))), path)
    loiter = [e for e in opened if e.type is EventType.LOITERING]
    assert len(loiter) == 1 and loiter[0].t_start == 0.0 and loiter[0].extra["dwell_s"] == 3.0
    assert loiter[0].t_end == 4.9


def test_brief_exit_within_grace_keeps_one_event() -> None:
    inside, outside = (150.0, 150.0), (250.0, 150.0)
    path = [inside] * 10 + [outside] * 3 + [inside] * 10
    opened, _ = run(EventEngine(Rules(zones=(ZONE,)), exit_grace_s=0.5), path)
    assert len([e for e in opened if e.type is EventType.ZONE_INTRUSION]) == 1
    opened, _ = run(EventEngine(Rules(zones=(ZONE,)), exit_grace_s=0.1), path)
    assert len([e for e in opened if e.type is EventType.ZONE_INTRUSION]) == 2


def test_classes_and_schedule_filter_events() -> None:
    path = [(150.0, 150.0)] * 10
    only_vehicles = Zone("yard", ZONE.polygon, classes=frozenset({"vehicle"}))
    opened, _ = run(EventEngine(Rules(zones=(only_vehicles,))), path, label="person")
    assert opened == []
    nights = Schedule((TimeWindow(frozenset(range(7)), time(22), time(6)),), "UTC")
    night_zone = Zone("yard", ZONE.polygon, schedule=nights)
    noon = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    midnight = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    assert run(EventEngine(Rules(zones=(night_zone,))), path, when=noon)[0] == []
    assert len(run(EventEngine(Rules(zones=(night_zone,))), path, when=midnight)[0]) == 1


def test_tripwire_direction_margin_and_repeat() -> None:
    across = [(130.0 + 4 * i, 50.0) for i in range(11)]  # left -> right through x = 150
    opened, _ = run(EventEngine(Rules(tripwires=(WIRE,))), across)
    assert [(e.type, e.direction) for e in opened] == [(EventType.TRIPWIRE, "out")]
    assert opened[0].t_start == opened[0].t_end
    back = list(reversed(across))
    opened, _ = run(EventEngine(Rules(tripwires=(WIRE,))), back)
    assert [e.direction for e in opened] == ["in"]
    jitter = [(149.0, 50.0), (151.5, 50.0)] * 10  # inside the 2 px margin: nothing
    assert run(EventEngine(Rules(tripwires=(WIRE,))), jitter)[0] == []
    beside = [(130.0 + 4 * i, 120.0) for i in range(11)]  # passes below the segment's end
    assert run(EventEngine(Rules(tripwires=(WIRE,))), beside)[0] == []
    zigzag = across + back + across
    assert len(run(EventEngine(Rules(tripwires=(WIRE,))), zigzag)[0]) == 2  # once per direction
    rep = Tripwire("gate", WIRE.a, WIRE.b, margin=2.0, repeat=True)
    assert len(run(EventEngine(Rules(tripwires=(rep,))), zigzag)[0]) == 3


def test_removed_track_closes_its_events() -> None:
    eng = EventEngine(Rules(zones=(ZONE,)))
    tr = track(7, box_at(150, 150))
    for i in range(10):
        eng.step(i * 0.1, [tr], [tr.anchor])
    assert len(eng.open_events()) == 1
    b = eng.step(1.0, [], [], removed=[7])
    assert [e.track_id for e in b.closed] == [7] and b.closed[0].t_end == 0.9
    assert eng.open_events() == []
