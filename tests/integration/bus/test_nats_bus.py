"""NatsAlarmBus against a real (private) nats-server with JetStream."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from kouan.bus.consumer import AlarmConsumer
from kouan.bus.health import check_bus
from kouan.bus.nats_bus import NatsAlarmBus
from kouan.bus.outbox import OutboxRelay
from kouan.config import Settings
from kouan.domain import Alarm, EvidenceEvent
from kouan.evidence.ledger import Ledger
from kouan.queue import ReviewQueue
from tests.fixtures.alarm_path import ledger_rows, make_finding
from tests.fixtures.nats import NatsServer, free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def nats_bus(nats_url: str) -> Iterator[NatsAlarmBus]:
    bus = NatsAlarmBus(nats_url, ack_wait_s=2.0)
    yield bus
    bus.close()


def test_publish_deduplicates_on_msg_id(nats_bus: NatsAlarmBus) -> None:
    a = nats_bus.publish("kouan.alarms.ERENHOT.lane-03.high", b"one", "alm-1")
    b = nats_bus.publish("kouan.alarms.ERENHOT.lane-03.high", b"one", "alm-1")
    c = nats_bus.publish("kouan.alarms.ERENHOT.none.low", b"two", "alm-2")
    assert (a.stream, a.duplicate, b.duplicate, c.duplicate) == ("KOUAN_ALARMS", False, True,
                                                                  False)
    assert a.seq == b.seq == 1 and c.seq == 2
    for consumer in ("gate", "command-centre"):
        sub = nats_bus.subscribe(consumer)
        got = sub.fetch(10, 1.0)
        assert [(d.msg_id, d.data, d.subject) for d in got] == [
            ("alm-1", b"one", "kouan.alarms.ERENHOT.lane-03.high"),
            ("alm-2", b"two", "kouan.alarms.ERENHOT.none.low")]
        for d in got:
            d.ack()
        sub.close()


def test_unacked_message_is_redelivered_to_the_durable(nats_bus: NatsAlarmBus) -> None:
    nats_bus.publish("kouan.alarms.P.L.high", b"x", "alm-1")
    sub = nats_bus.subscribe("gate")
    [d] = sub.fetch(1, 1.0)
    assert d.num_delivered == 1
    sub.close()
    again = nats_bus.subscribe("gate")  # a restarted gate system re-binds its durable
    [d2] = again.fetch(1, 5.0)  # after ack_wait (2 s)
    assert d2.msg_id == "alm-1" and d2.num_delivered == 2
    d2.ack()


def test_queue_to_consumer_over_nats(
        nats_bus: NatsAlarmBus, review_queue: ReviewQueue, ledger: Ledger,
        db_sessions: sessionmaker[Session]) -> None:
    alarms = [review_queue.submit_finding(make_finding(), raise_alarm=True)[1] for _ in range(5)]
    res = OutboxRelay(db_sessions, nats_bus, ledger).relay_once()
    assert (res.published, res.failed) == (5, 0)
    seen: list[str] = []
    gate = AlarmConsumer(nats_bus.subscribe("gate"), db_sessions, ledger,
                         lambda a, d: seen.append(a.id))
    while gate.poll_once(1.0):
        pass
    assert seen == [a.id for a in alarms if a]
    published = ledger_rows(db_sessions, EvidenceEvent.ALARM_PUBLISHED.value)
    assert {json.loads(r.payload)["bus"] for r in published} == {"nats"}
    assert len(ledger_rows(db_sessions, EvidenceEvent.ALARM_ACKNOWLEDGED.value)) == 5
    # The payload on the wire is the domain Alarm.
    sub = nats_bus.subscribe("command-centre")
    first = sub.fetch(1, 1.0)[0]
    assert Alarm.model_validate_json(first.data).id == first.msg_id == seen[0]


def test_publish_to_a_dead_server_raises_bus_error(tmp_path: object) -> None:
    from kouan.bus.base import BusError

    bus = NatsAlarmBus(f"nats://127.0.0.1:{free_port()}", connect_timeout_s=0.3,
                       publish_timeout_s=0.3)
    try:
        with pytest.raises(BusError, match="publish on nats://"):
            bus.publish("kouan.alarms.P.L.high", b"x", "alm-1")
    finally:
        bus.close()


def test_health_check(nats_server: NatsServer) -> None:
    up = check_bus(Settings(bus_url=nats_server.url), timeout_s=1.0)
    assert up.ok and up.backend == "external" and "JetStream up" in up.detail
    nats_server.kill()
    down = check_bus(Settings(bus_url=nats_server.url), timeout_s=0.5)
    assert not down.ok and "cannot reach NATS" in down.detail
    local = check_bus(Settings())
    assert local.ok and local.backend == "embedded"
