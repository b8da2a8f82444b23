"""MQTT bridge against the machine's Mosquitto (127.0.0.1:1883) and a private NATS server."""

from __future__ import annotations

import queue as queue_mod
import secrets
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy.orm import Session, sessionmaker

from kouan.bus.base import AlarmBus
from kouan.bus.local_bus import LocalAlarmBus
from kouan.bus.mqtt_bridge import BRIDGE_CONSUMER, MqttBridge
from kouan.bus.nats_bus import NatsAlarmBus
from kouan.bus.outbox import OutboxRelay
from kouan.domain import Alarm, Severity
from kouan.evidence.ledger import Ledger
from kouan.queue import ReviewQueue
from tests.fixtures.alarm_path import make_finding

pytestmark = pytest.mark.integration
BROKER = ("127.0.0.1", 1883)


@pytest.fixture
def mqtt_inbox() -> Iterator[tuple[str, queue_mod.Queue[mqtt.MQTTMessage]]]:
    """A subscriber on ``kouan/alarms/<unique port>/#``; yields (port id, received queue)."""
    port_id = f"T{secrets.token_hex(4).upper()}"
    inbox: queue_mod.Queue[mqtt.MQTTMessage] = queue_mod.Queue()
    subscribed = queue_mod.Queue[int]()
    c = mqtt.Client(CallbackAPIVersion.VERSION2)
    c.on_message = lambda _c, _u, msg: inbox.put(msg)
    c.on_subscribe = lambda *_a: subscribed.put(1)
    try:
        c.connect(*BROKER)
    except OSError as exc:
        pytest.fail(f"Mosquitto not reachable on {BROKER} (run `make services`): {exc}")
    c.loop_start()
    c.subscribe(f"kouan/alarms/{port_id}/#", qos=1)
    subscribed.get(timeout=5)
    yield port_id, inbox
    c.disconnect()
    c.loop_stop()


@pytest.mark.parametrize("backend", ["local", "nats"])
def test_alarms_reach_mqtt_devices(
        backend: str, request: pytest.FixtureRequest, db_sessions: sessionmaker[Session],
        ledger: Ledger, mqtt_inbox: tuple[str, queue_mod.Queue[mqtt.MQTTMessage]]) -> None:
    port_id, inbox = mqtt_inbox
    consumers = ["gate", BRIDGE_CONSUMER]
    bus: AlarmBus = (LocalAlarmBus(db_sessions, consumers) if backend == "local" else
                     NatsAlarmBus(request.getfixturevalue("nats_url"), consumers=consumers))
    bridge = MqttBridge(bus.subscribe(BRIDGE_CONSUMER), *BROKER,
                        client_id=f"kouan-test-{secrets.token_hex(4)}")
    try:
        queue = ReviewQueue(db_sessions, ledger)
        _, a1 = queue.submit_finding(make_finding(port_id=port_id, lane_id="lane-1",
                                                  severity=Severity.CRITICAL), raise_alarm=True)
        _, a2 = queue.submit_finding(make_finding(port_id=port_id, lane_id=None),
                                     raise_alarm=True)
        assert OutboxRelay(db_sessions, bus, ledger).relay_once().published == 2
        assert bridge.forward_once(2.0) == 2
        got = [inbox.get(timeout=5) for _ in range(2)]
        assert [(m.topic, Alarm.model_validate_json(m.payload).id) for m in got] == [
            (f"kouan/alarms/{port_id}/lane-1/critical", a1.id if a1 else None),
            (f"kouan/alarms/{port_id}/none/high", a2.id if a2 else None)]
        assert bridge.forward_once(0.5) == 0  # acknowledged on the bus: not forwarded again
    finally:
        bridge.stop()
        bus.close()
