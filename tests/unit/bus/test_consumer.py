"""AlarmConsumer over the embedded bus: exactly-once handling, ledger acks, refusals."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from kouan.bus.base import Delivery
from kouan.bus.consumer import AlarmConsumer
from kouan.bus.local_bus import LocalAlarmBus
from kouan.bus.outbox import OutboxRelay
from kouan.db.alarms import AlarmAckRow
from kouan.domain import Alarm, EvidenceEvent
from kouan.evidence.ledger import Ledger
from kouan.queue import ReviewQueue
from tests.fixtures.alarm_path import ledger_rows, make_finding


def _publish(queue: ReviewQueue, relay: OutboxRelay, n: int) -> list[Alarm]:
    alarms = [queue.submit_finding(make_finding(), raise_alarm=True)[1] for _ in range(n)]
    relay.relay_once()
    return [a for a in alarms if a is not None]


def test_each_alarm_is_handled_once_and_acknowledged_in_the_ledger(
        review_queue: ReviewQueue, local_bus: LocalAlarmBus, ledger: Ledger,
        db_sessions: sessionmaker[Session]) -> None:
    relay = OutboxRelay(db_sessions, local_bus, ledger)
    alarms = _publish(review_queue, relay, 3)
    seen: list[str] = []
    gate = AlarmConsumer(local_bus.subscribe("gate"), db_sessions, ledger,
                         lambda a, d: seen.append(a.id))
    assert gate.poll_once(0.2) == 3
    # The same alarms delivered again under other message ids (another relay, a replay
    # tool) are recognised by alarm id and change nothing.
    for a in alarms:
        local_bus.publish("kouan.alarms.replay", a.model_dump_json().encode(), f"{a.id}:replay")
    assert gate.poll_once(0.2) == 0
    assert seen == [a.id for a in alarms]
    assert (gate.stats.handled, gate.stats.duplicates) == (3, 3)
    acks = ledger_rows(db_sessions, EvidenceEvent.ALARM_ACKNOWLEDGED.value)
    assert [json.loads(r.payload)["alarm_id"] for r in acks] == [a.id for a in alarms]
    assert {json.loads(r.payload)["consumer"] for r in acks} == {"gate"}
    # The ledger files the acknowledgement under the finding's case.
    assert all(r.case_id.startswith("psg-test-") for r in acks)


def test_each_consumer_acknowledges_independently(
        review_queue: ReviewQueue, local_bus: LocalAlarmBus, ledger: Ledger,
        db_sessions: sessionmaker[Session]) -> None:
    relay = OutboxRelay(db_sessions, local_bus, ledger)
    _publish(review_queue, relay, 2)
    for name in ("gate", "command-centre"):
        assert AlarmConsumer(local_bus.subscribe(name), db_sessions, ledger).poll_once(0.2) == 2
    with db_sessions() as s:
        n = s.scalar(select(func.count()).select_from(AlarmAckRow))
    assert n == 4


def test_refused_alarm_is_redelivered_and_not_recorded(
        review_queue: ReviewQueue, local_bus: LocalAlarmBus, ledger: Ledger,
        db_sessions: sessionmaker[Session]) -> None:
    relay = OutboxRelay(db_sessions, local_bus, ledger)
    [alarm] = _publish(review_queue, relay, 1)
    attempts: list[int] = []

    def handler(a: Alarm, d: Delivery) -> None:
        attempts.append(d.num_delivered)
        if len(attempts) == 1:
            raise RuntimeError("barrier controller offline")

    gate = AlarmConsumer(local_bus.subscribe("gate"), db_sessions, ledger, handler,
                         retry_delay_s=0.05)
    assert gate.poll_once(0.2) == 0 and gate.stats.rejected == 1
    assert ledger_rows(db_sessions, EvidenceEvent.ALARM_ACKNOWLEDGED.value) == []
    assert gate.poll_once(1.0) == 1
    assert attempts == [1, 2]
    with db_sessions() as s:
        ack = s.get_one(AlarmAckRow, (alarm.id, "gate"))
    assert ack.deliveries == 2


def test_malformed_message_is_dropped_not_looped(
        local_bus: LocalAlarmBus, ledger: Ledger, db_sessions: sessionmaker[Session]) -> None:
    local_bus.publish("kouan.alarms.P.L.high", b"{not json", "junk-1")
    gate = AlarmConsumer(local_bus.subscribe("gate"), db_sessions, ledger)
    assert gate.poll_once(0.2) == 0 and gate.stats.malformed == 1
    assert local_bus.subscribe("gate").fetch(1, 0.1) == []


def test_background_consumer_thread(
        review_queue: ReviewQueue, local_bus: LocalAlarmBus, ledger: Ledger,
        db_sessions: sessionmaker[Session]) -> None:
    import threading

    relay = OutboxRelay(db_sessions, local_bus, ledger)
    done = threading.Event()
    seen: list[str] = []

    def handler(a: Alarm, d: Delivery) -> None:
        seen.append(a.id)
        done.set()

    cc = AlarmConsumer(local_bus.subscribe("command-centre"), db_sessions, ledger, handler,
                       fetch_timeout_s=0.1)
    cc.start()
    try:
        [alarm] = _publish(review_queue, relay, 1)
        assert done.wait(5.0)
    finally:
        cc.stop()
    assert seen == [alarm.id]
