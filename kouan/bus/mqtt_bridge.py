"""MQTT bridge: republishes alarms to an MQTT broker for devices that only speak MQTT.

Topic: ``kouan/alarms/<port>/<lane|none>/<severity>`` (the bus subject with ``/``), payload:
the Alarm JSON, QoS 1. The bridge is an ordinary durable consumer of the alarm bus
(``mqtt-bridge``), so it catches up after its own or the broker's downtime: a message is
acknowledged on the bus only after the broker confirmed it (PUBACK), else it is redelivered.
QoS 1 is at-least-once, so MQTT devices should ignore an alarm id they have already seen.
"""

from __future__ import annotations

import logging
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from kouan.bus.base import AlarmSource, BusError
from kouan.bus.subjects import mqtt_topic

log = logging.getLogger(__name__)

BRIDGE_CONSUMER = "mqtt-bridge"


class MqttBridge:
    """Forwards deliveries from ``source`` to the broker at ``host:port``."""

    def __init__(self, source: AlarmSource, host: str = "127.0.0.1", port: int = 1883, *,
                 client_id: str = "kouan-alarm-bridge", qos: int = 1,
                 publish_timeout_s: float = 5.0, retry_delay_s: float = 1.0) -> None:
        if qos not in (0, 1, 2):
            raise ValueError("qos must be 0, 1 or 2")
        if publish_timeout_s <= 0:
            raise ValueError("publish_timeout_s must be > 0")
        self.source = source
        self.host, self.port, self.qos = host, port, qos
        self.publish_timeout_s = publish_timeout_s
        self.retry_delay_s = retry_delay_s
        self.forwarded = 0
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self._client.reconnect_delay_set(min_delay=1, max_delay=10)
        self._connected = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def connect(self) -> None:
        """Connect to the broker (paho's network loop then reconnects on its own)."""
        if self._connected:
            return
        try:
            self._client.connect(self.host, self.port, keepalive=30)
        except OSError as exc:
            raise BusError(f"MQTT broker {self.host}:{self.port} unreachable: {exc}") from exc
        self._client.loop_start()
        self._connected = True

    def forward_once(self, timeout_s: float = 1.0) -> int:
        """Forward one batch; return how many the broker confirmed."""
        self.connect()
        done = 0
        for d in self.source.fetch(32, timeout_s):
            try:
                topic = mqtt_topic(d.subject)
            except ValueError:
                log.error("mqtt bridge: dropping message on non-alarm subject %s", d.subject)
                d.ack()
                continue
            info = self._client.publish(topic, d.data, qos=self.qos)
            try:
                info.wait_for_publish(self.publish_timeout_s)
            except (RuntimeError, ValueError) as exc:  # not connected / queue full
                log.warning("mqtt bridge: %s not forwarded: %s", d.msg_id, exc)
            if info.is_published():
                d.ack()
                done += 1
            else:
                d.nak(self.retry_delay_s)
        self.forwarded += done
        return done

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="mqtt-bridge", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.forward_once()
            except Exception as exc:  # broker or bus away: wait and retry
                log.warning("mqtt bridge: %s", exc)
                self._stop.wait(self.retry_delay_s)

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        if self._connected:
            self._client.disconnect()
            self._client.loop_stop()
            self._connected = False
