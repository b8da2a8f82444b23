"""``open_bus(settings, sessions)``: the alarm bus chosen by ``KOUAN_BUS_URL``."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session, sessionmaker

from kouan.bus.base import AlarmBus
from kouan.bus.local_bus import LocalAlarmBus
from kouan.bus.nats_bus import NatsAlarmBus
from kouan.bus.subjects import DEFAULT_CONSUMERS
from kouan.config import Settings


def open_bus(settings: Settings, sessions: sessionmaker[Session],
             consumers: Sequence[str] = DEFAULT_CONSUMERS) -> AlarmBus:
    """NATS JetStream when ``settings.bus_url`` is set, else the embedded local bus.

    Nothing is contacted here: the NATS connection opens on first publish or subscribe, so
    commands that never touch the bus work while NATS is down.
    """
    if settings.bus_url:
        return NatsAlarmBus(settings.bus_url, consumers=consumers,
                            client_name=f"kouan-{settings.port_code}")
    return LocalAlarmBus(sessions, consumers)
