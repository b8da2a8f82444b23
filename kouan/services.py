"""Composition root for long-lived service objects, built explicitly from :class:`Settings`.

``build_services(settings)`` is the one place that turns configuration into live objects; the
API (``create_app(settings, services)``), the CLI and the demo all go through it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from kouan.auth import TokenStore
from kouan.config import Settings
from kouan.db.engine import make_engine, make_session_factory
from kouan.db.migrate import upgrade


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    tokens: TokenStore

    def close(self) -> None:
        self.engine.dispose()


def build_services(settings: Settings, *, migrate: bool = True) -> Services:
    """Open the database (migrating it to head unless ``migrate=False``) and wire the stores."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_db_url)
    if migrate:
        upgrade(engine)
    sessions = make_session_factory(engine)
    return Services(settings=settings, engine=engine, sessions=sessions,
                    tokens=TokenStore(sessions))
