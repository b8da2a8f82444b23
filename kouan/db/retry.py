"""Retry a unit of work when the database connection drops or the database is briefly busy.

Only idempotent units of work may be retried: the caller's function must open its own
transaction and must be safe to run again after a failure whose outcome is unknown (the
COMMIT may have reached the server before the connection died). The review queue and the
outbox relay make every unit idempotent with primary keys and conditional UPDATEs.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

from kouan.errors import ServiceUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")


def is_transient(exc: BaseException) -> bool:
    """True for errors worth retrying: a lost connection, a refused connect, a locked SQLite
    file, a PostgreSQL deadlock/serialization failure (all DB-API ``OperationalError``)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError)


def run_with_retry(
    fn: Callable[[], T],
    *,
    what: str,
    attempts: int = 6,
    base_delay_s: float = 0.05,
    max_delay_s: float = 2.0,
) -> T:
    """Call ``fn()`` until it succeeds, retrying transient database errors with exponential
    backoff (with jitter); after ``attempts`` failures raise :class:`ServiceUnavailable`.

    ``what`` names the operation in logs and in the final error message.
    """
    if attempts < 1:
        raise ValueError("attempts must be >= 1")
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if attempt == attempts:
                root = exc.__cause__ or exc
                raise ServiceUnavailable(
                    f"database unavailable during {what} after {attempts} attempts: "
                    f"{type(root).__name__}: {str(root).strip()[:200]}") from exc
            delay = min(max_delay_s, base_delay_s * 2 ** (attempt - 1))
            delay *= 0.5 + random.random() / 2  # jitter: retrying clients do not move in step
            log.warning("%s: transient database error (attempt %d/%d), retrying in %.2fs: %s",
                        what, attempt, attempts, delay, str(exc).splitlines()[0][:200])
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
