from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from vision.video.zones import Rules, Schedule, TimeWindow, Tripwire, Zone

SQ = ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0))
WEEKDAYS = frozenset(range(5))


@pytest.mark.parametrize(
    ("window", "when", "active"),
    [
        (TimeWindow(WEEKDAYS, time(8), time(18)), datetime(2026, 3, 2, 9, 0), True),  # Mon
        (TimeWindow(WEEKDAYS, time(8), time(18)), datetime(2026, 3, 2, 18, 0), False),
        (TimeWindow(WEEKDAYS, time(8), time(18)), datetime(2026, 3, 7, 9, 0), False),  # Sat
        # overnight window 22:00-06:00 that starts on Friday covers Saturday 03:00
        (TimeWindow(frozenset({4}), time(22), time(6)), datetime(2026, 3, 7, 3, 0), True),
        (TimeWindow(frozenset({4}), time(22), time(6)), datetime(2026, 3, 6, 23, 0), True),
        (TimeWindow(frozenset({4}), time(22), time(6)), datetime(2026, 3, 6, 3, 0), False),
    ],
)
def test_time_window(window: TimeWindow, when: datetime, active: bool) -> None:
    assert window.contains(when) is active


def test_schedule_uses_its_timezone() -> None:
    s = Schedule((TimeWindow(frozenset(range(7)), time(22), time(6)),), "Asia/Shanghai")
    # 15:00 UTC is 23:00 in Shanghai: inside the night window
    assert s.active(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    assert not s.active(datetime(2026, 3, 2, 4, 0, tzinfo=UTC))  # 12:00 local
    with pytest.raises(ValueError, match="timezone-aware"):
        s.active(datetime(2026, 3, 2, 15, 0))


def test_schedule_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="timezone"):
        Schedule((TimeWindow(WEEKDAYS, time(8), time(9)),), "Mars/Olympus")
    with pytest.raises(ValueError, match="at least one"):
        Schedule(())
    with pytest.raises(ValueError, match="days"):
        TimeWindow(frozenset({7}), time(8), time(9))


def test_zone_validation() -> None:
    with pytest.raises(ValueError, match="crosses itself"):
        Zone("z", ((0, 0), (10, 10), (10, 0), (0, 10)))
    with pytest.raises(ValueError, match="unknown classes"):
        Zone("z", SQ, classes=frozenset({"dragon"}))
    with pytest.raises(ValueError, match="loiter_s"):
        Zone("z", SQ, loiter_s=0)
    z = Zone("z", SQ, classes=frozenset({"person"}))
    assert z.contains((5, 5)) and not z.contains((11, 5))
    assert z.applies_to("person") and not z.applies_to("vehicle")
    assert Zone("all", SQ).applies_to("vehicle")


def test_tripwire_validation_and_distance() -> None:
    with pytest.raises(ValueError, match="same"):
        Tripwire("w", (1, 1), (1, 1))
    with pytest.raises(ValueError, match="alarm_on"):
        Tripwire("w", (0, 0), (1, 0), forward="in", backward="out", alarm_on=frozenset({"up"}))
    w = Tripwire("w", (0, 0), (10, 0))
    assert w.signed_distance((5, 3)) == pytest.approx(3.0)
    assert w.signed_distance((5, -2)) == pytest.approx(-2.0)


def test_rules_names_and_frame_check() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        Rules(zones=(Zone("a", SQ),), tripwires=(Tripwire("a", (0, 0), (1, 1)),))
    r = Rules(zones=(Zone("in", SQ), Zone("out", ((0, 0), (50, 0), (50, 5)))),
              tripwires=(Tripwire("w", (0, 0), (30, 30)),))
    assert r.outside_frame(20, 20) == ["out", "w"]
    assert r.outside_frame(100, 100) == []
