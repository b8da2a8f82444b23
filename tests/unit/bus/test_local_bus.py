"""Embedded bus: de-duplication by message id, leases, redelivery, wake-up."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy.orm import Session, sessionmaker

from kouan.bus.local_bus import LocalAlarmBus


def test_publish_deduplicates_by_message_id(local_bus: LocalAlarmBus) -> None:
    a = local_bus.publish("kouan.alarms.P.L.high", b'{"n":1}', "alm-1")
    b = local_bus.publish("kouan.alarms.P.L.high", b'{"n":1}', "alm-1")
    c = local_bus.publish("kouan.alarms.P.L.high", b'{"n":2}', "alm-2")
    assert (a.duplicate, b.duplicate, c.duplicate) == (False, True, False)
    assert a.seq == b.seq < c.seq and a.stream == "local"
    for consumer in local_bus.consumers:
        sub = local_bus.subscribe(consumer)
        got = sub.fetch(10, 0.1)
        assert [(d.msg_id, d.data, d.num_delivered) for d in got] == [
            ("alm-1", b'{"n":1}', 1), ("alm-2", b'{"n":2}', 1)]


def test_unacked_message_comes_back_after_ack_wait(db_sessions: sessionmaker[Session]) -> None:
    bus = LocalAlarmBus(db_sessions, ["gate"], ack_wait_s=1.0, poll_interval_s=0.02)
    bus.publish("kouan.alarms.P.L.high", b"x", "alm-1")
    sub, twin = bus.subscribe("gate"), bus.subscribe("gate")
    t0 = time.monotonic()
    [first] = sub.fetch(5, 0.1)
    hidden = twin.fetch(5, 0.05)
    if time.monotonic() - t0 < 0.9:  # still inside the lease (a stalled machine may not be)
        assert hidden == []
    [again] = twin.fetch(5, 3.0)  # the lease ran out: handed out again
    assert again.msg_id == "alm-1" and again.num_delivered == 2
    again.ack()
    assert sub.pending() == 0 and sub.fetch(5, 0.3) == []
    first.ack()  # a late acknowledgement of the older hand-out is harmless


def test_another_process_may_receive_a_message_this_one_holds(
        local_bus: LocalAlarmBus, db_sessions: sessionmaker[Session]) -> None:
    """Leases are per process: a second process fetching as the same consumer also gets an
    unacknowledged message (the documented trade-off; AlarmConsumer records it once)."""
    local_bus.publish("kouan.alarms.P.L.high", b"x", "alm-1")
    [mine] = local_bus.subscribe("gate").fetch(1, 0.1)
    other_process = LocalAlarmBus(db_sessions, ["gate"]).subscribe("gate")
    [theirs] = other_process.fetch(1, 0.1)
    assert mine.msg_id == theirs.msg_id == "alm-1"
    theirs.ack()
    assert other_process.fetch(1, 0.05) == [] and local_bus.subscribe("gate").pending() == 0


def test_nak_redelivers_after_delay(local_bus: LocalAlarmBus) -> None:
    local_bus.publish("kouan.alarms.P.L.high", b"x", "alm-1")
    sub = local_bus.subscribe("gate")
    [d] = sub.fetch(1, 0.1)
    t0 = time.monotonic()
    d.nak(1.0)
    hidden = sub.fetch(1, 0.05)
    if time.monotonic() - t0 < 0.9:
        assert hidden == []
    [d2] = sub.fetch(1, 3.0)
    assert d2.num_delivered == 2


def test_two_fetchers_of_one_consumer_never_share_a_message(local_bus: LocalAlarmBus) -> None:
    for i in range(30):
        local_bus.publish("kouan.alarms.P.L.high", b"x", f"alm-{i}")
    seen: list[str] = []
    lock = threading.Lock()

    def drain() -> None:
        sub = local_bus.subscribe("gate")
        while got := sub.fetch(3, 0.05):
            with lock:
                seen.extend(d.msg_id for d in got)
            for d in got:
                d.ack()

    threads = [threading.Thread(target=drain) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(seen) == sorted(f"alm-{i}" for i in range(30))


def test_waiting_fetch_wakes_on_publish(db_sessions: sessionmaker[Session]) -> None:
    bus = LocalAlarmBus(db_sessions, ["gate"], poll_interval_s=5.0)
    sub = bus.subscribe("gate")
    threading.Timer(0.2, lambda: bus.publish("kouan.alarms.P.L.high", b"x", "alm-1")).start()
    t0 = time.monotonic()
    got = sub.fetch(1, 4.0)
    assert [d.msg_id for d in got] == ["alm-1"]
    assert time.monotonic() - t0 < 2.0  # woken, not polled after 5 s


def test_consumers_are_durable_across_bus_instances(
        local_bus: LocalAlarmBus, db_sessions: sessionmaker[Session]) -> None:
    local_bus.publish("kouan.alarms.P.L.high", b"x", "alm-early")
    # Another process (another bus object on the same database) subscribes a new consumer...
    other = LocalAlarmBus(db_sessions, ["gate"], poll_interval_s=0.05)
    audit = other.subscribe("audit-log")
    # ...and from then on receives what this process publishes, even though it does not know
    # the name: registration lives in the database.
    local_bus.publish("kouan.alarms.P.L.high", b"y", "alm-late")
    assert [d.msg_id for d in audit.fetch(10, 0.2)] == ["alm-late"]
    assert [d.msg_id for d in local_bus.subscribe("command-centre").fetch(10, 0.1)] == [
        "alm-early", "alm-late"]


def test_bad_arguments(local_bus: LocalAlarmBus, db_sessions: sessionmaker[Session]) -> None:
    with pytest.raises(ValueError, match="consumer name"):
        local_bus.subscribe("no spaces")
    with pytest.raises(ValueError):
        LocalAlarmBus(db_sessions, [])
    with pytest.raises(ValueError):
        local_bus.subscribe("gate").fetch(0, 1.0)


def test_purge_removes_only_old_acknowledged_rows(local_bus: LocalAlarmBus) -> None:
    from datetime import timedelta

    local_bus.publish("kouan.alarms.P.L.high", b"x", "alm-1")
    local_bus.publish("kouan.alarms.P.L.high", b"y", "alm-2")
    sub = local_bus.subscribe("gate")
    [d1, _] = sub.fetch(2, 0.1)
    d1.ack()
    assert local_bus.purge(timedelta(hours=1)) == 0  # too young
    time.sleep(0.05)
    assert local_bus.purge(timedelta(seconds=0.01)) == 1  # only gate's acked alm-1
    assert sub.pending() == 1
