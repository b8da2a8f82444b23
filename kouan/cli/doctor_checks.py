"""Health checks for ``kouan doctor``: one per component, none of them changes anything.

Embedded backends are checked for what they need to start (binary, writable dir); external
ones must answer within a short timeout.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from urllib.parse import urlparse

from sqlalchemy import text

from kouan.config import Settings
from kouan.health import Backend, ComponentStatus


def check_database(settings: Settings) -> ComponentStatus:
    from kouan.db.engine import make_engine

    url = settings.resolved_db_url
    backend: Backend = "external" if settings.db_url else "embedded"
    engine = make_engine(url)
    shown = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return ComponentStatus("database", backend, shown, True, engine.dialect.name)
    except Exception as exc:  # any driver error means "not reachable"; report it, don't crash
        return ComponentStatus("database", backend, shown, False, _first_line(exc))
    finally:
        engine.dispose()


def check_ray(settings: Settings) -> ComponentStatus:
    if not settings.ray_address or settings.ray_address == "local":
        import importlib.util

        ok = importlib.util.find_spec("ray") is not None
        return ComponentStatus("ray", "embedded", "local ray.init()", ok,
                               "ray importable" if ok else "ray not installed")
    addr = settings.ray_address
    parsed = urlparse(addr if "://" in addr else f"ray://{addr}")
    host, port = parsed.hostname or "", parsed.port or 10001
    return _tcp("ray", addr, host, port)


def _tcp(component: str, target: str, host: str, port: int) -> ComponentStatus:
    try:
        with socket.create_connection((host, port), timeout=2.0):
            return ComponentStatus(component, "external", target, True, "port open")
    except OSError as exc:
        return ComponentStatus(component, "external", target, False, _first_line(exc))


def _first_line(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {msg[0] if msg else ''}"[:200]


def all_checks() -> list[Callable[[Settings], ComponentStatus]]:
    from kouan.bus.health import check_bus
    from kouan.evidence.health import evidence_health
    from serving.health import check_triton

    return [check_triton, check_database, check_bus, evidence_health, check_ray]


def run_checks(settings: Settings) -> list[ComponentStatus]:
    return [check(settings) for check in all_checks()]
