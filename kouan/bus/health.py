"""Bus health for ``kouan doctor`` and readiness checks."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine
from typing import Any, TypeVar

import nats
import nats.js.errors
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from kouan.bus.subjects import STREAM
from kouan.config import Settings
from kouan.db.alarms import OutboxRow
from kouan.health import Backend, ComponentStatus

T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from sync code, even if this thread has a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _probe_nats(url: str, timeout_s: float) -> str:
    nc = await asyncio.wait_for(
        nats.connect(servers=url, connect_timeout=timeout_s,
                     allow_reconnect=False, name="kouan-doctor"),
        timeout_s * 2)
    try:
        js = nc.jetstream(timeout=timeout_s)
        await js.account_info()  # fails when JetStream is not enabled on the server
        try:
            info = await js.stream_info(STREAM)
        except nats.js.errors.NotFoundError:
            return (f"JetStream up (server {nc.connected_server_version}); stream {STREAM} "
                    "not created yet (created on first publish)")
        return (f"JetStream up (server {nc.connected_server_version}); stream {STREAM}: "
                f"{info.state.messages} messages, {info.state.consumer_count} consumers")
    finally:
        await nc.close()


def _outbox_backlog(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(OutboxRow)
                            .where(OutboxRow.published_at.is_(None))) or 0)


def check_bus(settings: Settings, sessions: sessionmaker[Session] | None = None,
              timeout_s: float = 2.0) -> ComponentStatus:
    """Probe the configured bus within about ``timeout_s``; never raises.

    ``backend`` is ``embedded`` (local outbox) or ``external`` (NATS at ``KOUAN_BUS_URL``).

    With ``sessions`` the outbox backlog is reported too: a growing backlog means the relay
    is not running or cannot reach the bus.
    """
    backend: Backend = "external" if settings.bus_url else "embedded"
    target = settings.bus_url or "local outbox in " + _hide_password(settings.resolved_db_url)
    backlog = ""
    if sessions is not None:
        try:
            backlog = f"; {_outbox_backlog(sessions)} alarm(s) waiting in the outbox"
        except SQLAlchemyError as exc:
            return ComponentStatus("bus", backend, target, False,
                                   f"outbox table unreadable: {str(exc).splitlines()[0]}")
    if not settings.bus_url:
        return ComponentStatus("bus", backend, target, True,
                               "durable local outbox with local consumers" + backlog)
    try:
        detail = _run(_probe_nats(settings.bus_url, timeout_s))
    except Exception as exc:  # any failure is the answer, not a crash
        return ComponentStatus("bus", backend, target, False,
                               f"cannot reach NATS: {type(exc).__name__}: {exc or 'timeout'}"
                               + backlog)
    return ComponentStatus("bus", backend, target, True, detail + backlog)


def _hide_password(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
