"""Composition root for long-lived service objects, built explicitly from :class:`Settings`.

``build_services(settings)`` is the one place that turns configuration into live objects; the
API (``create_app(settings, services)``), the CLI and the demo all go through it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from kouan.auth import TokenStore
from kouan.bus.base import AlarmBus
from kouan.bus.factory import open_bus
from kouan.bus.outbox import OutboxRelay
from kouan.config import Settings
from kouan.db.engine import make_engine, make_session_factory
from kouan.db.migrate import upgrade
from kouan.evidence.service import EvidenceService
from kouan.queue import ReviewQueue


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    tokens: TokenStore
    evidence: EvidenceService
    bus: AlarmBus  # NATS JetStream (KOUAN_BUS_URL) or the embedded local bus
    relay: OutboxRelay  # not started here: long-running processes call relay.start()
    queue: ReviewQueue

    def close(self) -> None:
        self.relay.stop()
        self.bus.close()
        self.engine.dispose()


def build_services(settings: Settings, *, migrate: bool = True) -> Services:
    """Open the database (migrating it to head unless ``migrate=False``) and wire the stores."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_db_url)
    if migrate:
        upgrade(engine)
    sessions = make_session_factory(engine)
    evidence = EvidenceService.from_settings(settings, sessions)
    bus = open_bus(settings, sessions)
    relay = OutboxRelay(sessions, bus, evidence.ledger)
    return Services(settings=settings, engine=engine, sessions=sessions,
                    tokens=TokenStore(sessions), evidence=evidence, bus=bus, relay=relay,
                    queue=ReviewQueue(sessions, evidence.ledger,
                                      on_alarm_committed=relay.wake))
