"""build_services wires queue -> outbox relay -> bus with the evidence ledger."""

from __future__ import annotations

import pytest

from kouan.bus.consumer import AlarmConsumer
from kouan.bus.local_bus import LocalAlarmBus
from kouan.bus.nats_bus import NatsAlarmBus
from kouan.config import get_settings
from kouan.domain import EvidenceEvent
from kouan.services import Services, build_services
from tests.fixtures.alarm_path import ledger_rows, make_finding
from tests.fixtures.nats import free_port


def test_embedded_alarm_path(services: Services) -> None:
    assert isinstance(services.bus, LocalAlarmBus)
    gate = AlarmConsumer(services.bus.subscribe("gate"), services.sessions,
                         services.evidence.ledger, fetch_timeout_s=5.0)
    services.relay.start()
    _, alarm = services.queue.submit_finding(make_finding(), raise_alarm=True)
    assert gate.poll_once() == 1
    services.close()  # stops the relay thread too
    assert not services.relay.running
    events = [r.event for r in ledger_rows(services.sessions)]
    # The relay records "published" after the bus confirms, while the consumer may already
    # have received and acknowledged it: those two entries can land in either order.
    assert events[0] == EvidenceEvent.FINDING.value
    assert sorted(events[1:]) == sorted([EvidenceEvent.ALARM_PUBLISHED.value,
                                         EvidenceEvent.ALARM_ACKNOWLEDGED.value])
    assert alarm is not None
    report = services.evidence.verify()  # the entries extend the signed hash chain correctly
    assert report.ok, report.text()
    assert report.records_checked == 3


def test_bus_url_selects_nats_without_connecting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOUAN_BUS_URL", f"nats://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    svc = build_services(get_settings())  # NATS is down: building must still work
    try:
        assert isinstance(svc.bus, NatsAlarmBus) and svc.bus.url.startswith("nats://")
        item, _ = svc.queue.submit_finding(make_finding(), raise_alarm=True)
        assert svc.relay.pending() == 1  # committed, waiting for the bus
    finally:
        svc.close()
