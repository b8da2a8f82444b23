"""Outbox relay over the embedded bus: publish, mark, ledger, backoff, background wake-up."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kouan.bus.base import AlarmSource, BusError, PublishAck
from kouan.bus.local_bus import LocalAlarmBus
from kouan.bus.outbox import OutboxMessage, OutboxRelay, RelayHooks
from kouan.db.alarms import AlarmRow, OutboxRow
from kouan.domain import EvidenceEvent, utcnow
from kouan.evidence.ledger import Ledger
from kouan.queue import ReviewQueue
from tests.fixtures.alarm_path import ledger_rows, make_finding


class FlakyBus:
    """A bus double at the seam: fails while ``down`` is set, else forwards to ``inner``."""

    backend = "flaky"

    def __init__(self, inner: LocalAlarmBus) -> None:
        self.inner = inner
        self.down = True
        self.calls = 0

    def publish(self, subject: str, payload: bytes, msg_id: str) -> PublishAck:
        self.calls += 1
        if self.down:
            raise BusError("bus unreachable (test)")
        return self.inner.publish(subject, payload, msg_id)

    def subscribe(self, consumer: str) -> AlarmSource:
        return self.inner.subscribe(consumer)

    def close(self) -> None:
        self.inner.close()


def test_relay_once_publishes_marks_and_records(
        review_queue: ReviewQueue, local_bus: LocalAlarmBus, ledger: Ledger,
        db_sessions: sessionmaker[Session]) -> None:
    alarms = [review_queue.submit_finding(make_finding(), raise_alarm=True)[1] for _ in range(3)]
    relay = OutboxRelay(db_sessions, local_bus, ledger)
    assert relay.pending() == 3
    res = relay.relay_once()
    assert (res.published, res.failed, res.duplicates) == (3, 0, 0)
    assert relay.pending() == 0 and relay.relay_once().published == 0
    with db_sessions() as s:
        rows = s.scalars(select(AlarmRow)).all()
    assert all(r.published_at is not None and r.stream_seq for r in rows)
    got = local_bus.subscribe("gate").fetch(10, 0.1)
    assert [d.msg_id for d in got] == [a.id for a in alarms if a]
    published = ledger_rows(db_sessions, EvidenceEvent.ALARM_PUBLISHED.value)
    assert [json.loads(r.payload)["alarm_id"] for r in published] == [a.id for a in alarms if a]


def test_republish_after_lost_mark_is_a_duplicate(
        review_queue: ReviewQueue, local_bus: LocalAlarmBus, ledger: Ledger,
        db_sessions: sessionmaker[Session]) -> None:
    _, alarm = review_queue.submit_finding(make_finding(), raise_alarm=True)
    assert alarm is not None
    crash = RuntimeError("crash between publish and mark")

    def die(msg: OutboxMessage, ack: PublishAck) -> None:
        raise crash

    with pytest.raises(RuntimeError):
        OutboxRelay(db_sessions, local_bus, ledger, hooks=RelayHooks(after_publish=die)) \
            .relay_once()
    res = OutboxRelay(db_sessions, local_bus, ledger).relay_once()
    assert (res.published, res.duplicates) == (1, 1)
    assert [d.msg_id for d in local_bus.subscribe("gate").fetch(10, 0.1)] == [alarm.id]
    assert len(ledger_rows(db_sessions, EvidenceEvent.ALARM_PUBLISHED.value)) == 1


def test_bus_failure_backs_off_then_recovers(
        review_queue: ReviewQueue, local_bus: LocalAlarmBus, ledger: Ledger,
        db_sessions: sessionmaker[Session]) -> None:
    review_queue.submit_finding(make_finding(), raise_alarm=True)
    bus = FlakyBus(local_bus)
    relay = OutboxRelay(db_sessions, bus, ledger, backoff_base_s=0.2, backoff_max_s=1.0)
    res = relay.relay_once()
    assert (res.published, res.failed) == (0, 1) and "unreachable" in res.errors[0]
    with db_sessions() as s:
        row = s.scalars(select(OutboxRow)).one()
    assert row.attempts == 1 and row.last_error and row.next_attempt_at > utcnow()
    assert relay.relay_once().published == 0 and bus.calls == 1  # not due yet
    bus.down = False
    time.sleep(0.25)
    assert relay.relay_once().published == 1
    with db_sessions() as s:
        row = s.scalars(select(OutboxRow)).one()
    assert row.published_at is not None and row.attempts == 2 and row.last_error is None
    assert [relay.backoff_s(n) for n in (0, 1, 2, 3, 10)] == [0.0, 0.2, 0.4, 0.8, 1.0]


def test_background_relay_publishes_on_wake(
        local_bus: LocalAlarmBus, ledger: Ledger, db_sessions: sessionmaker[Session]) -> None:
    relay = OutboxRelay(db_sessions, local_bus, ledger, poll_interval_s=30.0)
    queue = ReviewQueue(db_sessions, ledger, on_alarm_committed=relay.wake)
    sub = local_bus.subscribe("command-centre")
    relay.start()
    try:
        time.sleep(0.1)
        t0 = time.monotonic()
        _, alarm = queue.submit_finding(make_finding(), raise_alarm=True)
        got = sub.fetch(1, 5.0)
        assert [d.msg_id for d in got] == [alarm.id if alarm else None]
        assert time.monotonic() - t0 < 3.0  # woken by the commit, not the 30 s poll
    finally:
        relay.stop()
    assert not relay.running


def test_concurrent_relays_deliver_each_alarm_once(
        review_queue: ReviewQueue, local_bus: LocalAlarmBus, ledger: Ledger,
        db_sessions: sessionmaker[Session]) -> None:
    ids = {review_queue.submit_finding(make_finding(), raise_alarm=True)[1].id  # type: ignore[union-attr]
           for _ in range(20)}
    relays = [OutboxRelay(db_sessions, local_bus, ledger, batch=5) for _ in range(3)]
    threads = [threading.Thread(target=lambda r=r: [r.relay_once() for _ in range(6)])
               for r in relays]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    got = [d.msg_id for d in local_bus.subscribe("gate").fetch(100, 0.1)]
    assert sorted(got) == sorted(ids)
    assert len(ledger_rows(db_sessions, EvidenceEvent.ALARM_PUBLISHED.value)) == 20


def test_relay_rejects_bad_settings(local_bus: LocalAlarmBus, ledger: Ledger,
                                    db_sessions: sessionmaker[Session]) -> None:
    for kw in ({"batch": 0}, {"poll_interval_s": 0}, {"backoff_base_s": 2, "backoff_max_s": 1}):
        with pytest.raises(ValueError):
            OutboxRelay(db_sessions, local_bus, ledger, **kw)  # type: ignore[arg-type]
    assert timedelta(0) == timedelta(seconds=OutboxRelay(db_sessions, local_bus,
                                                         ledger).backoff_s(0))
