"""Fault test: nats-server is SIGKILLed and restarted (twice) while alarms flow.

Producer -> review queue (commit) -> outbox relay thread -> JetStream -> ``gate`` consumer
thread. Every alarm must reach the de-duplicating consumer exactly once: none lost while the
server was down (the outbox keeps them), none handled twice although the relay re-publishes
whatever it could not confirm and the server redelivers whatever it did not see acknowledged.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from kouan.bus.consumer import AlarmConsumer
from kouan.bus.nats_bus import NatsAlarmBus
from kouan.bus.outbox import OutboxRelay
from kouan.db.alarms import AlarmAckRow, OutboxRow
from kouan.domain import Alarm, EvidenceEvent
from kouan.evidence.ledger import Ledger
from kouan.queue import ReviewQueue
from tests.fixtures.alarm_path import ledger_rows, make_finding
from tests.fixtures.nats import NatsServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

N_ALARMS = 60  # at least; more are sent if the outages last longer


def test_every_alarm_arrives_exactly_once_across_server_kills(
        nats_server: NatsServer, db_sessions: sessionmaker[Session], ledger: Ledger) -> None:
    pub_bus = NatsAlarmBus(nats_server.url, publish_timeout_s=0.5, connect_timeout_s=0.5,
                           reconnect_wait_s=0.1)
    sub_bus = NatsAlarmBus(nats_server.url, publish_timeout_s=0.5, connect_timeout_s=0.5,
                           reconnect_wait_s=0.1, ack_wait_s=1.0)
    relay = OutboxRelay(db_sessions, pub_bus, ledger, poll_interval_s=0.1,
                        backoff_base_s=0.05, backoff_max_s=0.5)
    queue = ReviewQueue(db_sessions, ledger, on_alarm_committed=relay.wake)
    received: list[str] = []
    lock = threading.Lock()

    def on_alarm(alarm: Alarm, _delivery: object) -> None:
        with lock:
            received.append(alarm.id)

    gate = AlarmConsumer(sub_bus.subscribe("gate"), db_sessions, ledger, on_alarm,
                         fetch_timeout_s=0.3, retry_delay_s=0.1)
    def chaos() -> None:
        for _ in range(2):
            time.sleep(0.4)
            nats_server.kill()
            time.sleep(0.8)  # alarms keep being committed while the bus is down
            nats_server.start()

    relay.start()
    gate.start()
    killer = threading.Thread(target=chaos)
    sent: list[str] = []
    try:
        killer.start()
        while killer.is_alive() or len(sent) < N_ALARMS:
            _, alarm = queue.submit_finding(make_finding(), raise_alarm=True)
            assert alarm is not None
            sent.append(alarm.id)
            time.sleep(0.02)
        killer.join()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with lock:
                if set(received) >= set(sent):
                    break
            time.sleep(0.1)
        time.sleep(1.5)  # longer than ack_wait: any redelivery would show up now
    finally:
        killer.join()
        gate.stop()
        relay.stop()
        pub_bus.close()
        sub_bus.close()

    assert nats_server.starts == 3
    counts = Counter(received)
    assert set(counts) == set(sent), f"missing: {set(sent) - set(counts)}"
    assert max(counts.values()) == 1, [a for a, n in counts.items() if n > 1]
    n = len(sent)
    with db_sessions() as s:
        assert s.scalar(select(func.count()).select_from(AlarmAckRow)) == n
        assert s.scalar(select(func.count()).select_from(OutboxRow)
                        .where(OutboxRow.published_at.is_(None))) == 0
        retried = s.scalar(select(func.count()).select_from(OutboxRow)
                           .where(OutboxRow.attempts > 1))
    assert retried and retried > 0  # the outages really hit alarms in flight
    assert len(ledger_rows(db_sessions, EvidenceEvent.ALARM_PUBLISHED.value)) == n
    assert len(ledger_rows(db_sessions, EvidenceEvent.ALARM_ACKNOWLEDGED.value)) == n
