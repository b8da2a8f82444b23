"""Outbox relay: publishes committed alarms from the ``outbox`` table to the alarm bus.

Why an outbox: the finding, its alarm and the outbox row commit in one database transaction
(``ReviewQueue.submit_finding``); publishing is a second step that can be retried forever.
A bus outage, or a crash between the commit and the publish, therefore delays an alarm but
never loses it. A crash after the publish but before the row is marked published makes the
next relay publish it again; the bus recognises the alarm id (``Nats-Msg-Id``) and answers
"duplicate", so receivers still see it once.

Run it as a background thread inside the app (:meth:`OutboxRelay.start`; committers call
:meth:`wake` so an alarm goes out at once rather than at the next poll), or call
:meth:`relay_once` from the CLI. Several relays may run against one database: marking is a
conditional UPDATE, and double publishes are de-duplicated by the bus.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from kouan.bus.base import AlarmBus, BusError, LedgerAppender, PublishAck
from kouan.db.alarms import AlarmRow, OutboxRow
from kouan.db.retry import run_with_retry
from kouan.domain import EvidenceEvent, utcnow
from kouan.errors import ServiceUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboxMessage:
    """An outbox row as the relay sees it."""

    id: int
    alarm_id: str
    subject: str
    payload: str
    attempts: int


@dataclass
class RelayHooks:
    """Optional callbacks around each publish (metrics, tracing, fault-injection tests).

    ``before_publish`` runs after the row was read and before the bus is called;
    ``after_publish`` runs after the bus confirmed and before the row is marked published.
    """

    before_publish: Callable[[OutboxMessage], None] | None = None
    after_publish: Callable[[OutboxMessage, PublishAck], None] | None = None


@dataclass
class RelayResult:
    """What one :meth:`OutboxRelay.relay_once` pass did."""

    published: int = 0
    duplicates: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class OutboxRelay:
    """Moves ``outbox`` rows onto ``bus`` and records ``alarm_published`` in the ledger."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        bus: AlarmBus,
        ledger: LedgerAppender,
        *,
        batch: int = 100,
        poll_interval_s: float = 0.5,
        backoff_base_s: float = 0.1,
        backoff_max_s: float = 5.0,
        hooks: RelayHooks | None = None,
    ) -> None:
        if batch < 1:
            raise ValueError("batch must be >= 1")
        if poll_interval_s <= 0 or backoff_base_s <= 0 or backoff_max_s < backoff_base_s:
            raise ValueError("need poll_interval_s > 0 and 0 < backoff_base_s <= backoff_max_s")
        self._sessions = sessions
        self.bus = bus
        self._ledger = ledger
        self.batch = batch
        self.poll_interval_s = poll_interval_s
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.hooks = hooks or RelayHooks()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def backoff_s(self, failures: int) -> float:
        """Delay after ``failures`` consecutive failures: base * 2^(n-1), capped."""
        if failures <= 0:
            return 0.0
        return float(min(self.backoff_max_s, self.backoff_base_s * 2 ** min(failures - 1, 30)))

    # -- one pass ---------------------------------------------------------------------------

    def pending(self) -> int:
        """Outbox rows not yet confirmed by the bus (due now or backing off)."""
        with self._sessions() as s:
            return int(s.scalar(select(func.count()).select_from(OutboxRow)
                                .where(OutboxRow.published_at.is_(None))) or 0)

    def _due(self) -> list[OutboxMessage]:
        with self._sessions() as s:
            rows = s.execute(
                select(OutboxRow.id, OutboxRow.alarm_id, OutboxRow.subject, OutboxRow.payload,
                       OutboxRow.attempts)
                .where(OutboxRow.published_at.is_(None), OutboxRow.next_attempt_at <= utcnow())
                .order_by(OutboxRow.id).limit(self.batch)).all()
        return [OutboxMessage(*r) for r in rows]

    def relay_once(self) -> RelayResult:
        """Publish every due outbox row (up to ``batch``) in commit order.

        Stops at the first bus failure (the rest would fail too) after scheduling that row's
        next attempt with exponential backoff. Raises :class:`ServiceUnavailable` only when
        the database itself stays unreachable.
        """
        result = RelayResult()
        for msg in run_with_retry(self._due, what="outbox read"):
            if self.hooks.before_publish:
                self.hooks.before_publish(msg)
            try:
                ack = self.bus.publish(msg.subject, msg.payload.encode("utf-8"), msg.alarm_id)
            except BusError as exc:
                result.failed += 1
                result.errors.append(str(exc))
                self._record_failure(msg, str(exc))
                break
            if self.hooks.after_publish:
                self.hooks.after_publish(msg, ack)
            run_with_retry(partial(self._mark_published, msg, ack), what="outbox mark")
            result.published += 1
            result.duplicates += int(ack.duplicate)
        return result

    def _record_failure(self, msg: OutboxMessage, error: str) -> None:
        attempts = msg.attempts + 1
        delay = timedelta(seconds=self.backoff_s(attempts))
        log.warning("alarm %s not published (attempt %d, next in %.1fs): %s",
                    msg.alarm_id, attempts, delay.total_seconds(), error)

        def run() -> None:
            with self._sessions.begin() as s:
                s.execute(update(OutboxRow)
                          .where(OutboxRow.id == msg.id, OutboxRow.published_at.is_(None))
                          .values(attempts=attempts, next_attempt_at=utcnow() + delay,
                                  last_error=error[:2000]))

        run_with_retry(run, what="outbox failure record")

    def _mark_published(self, msg: OutboxMessage, ack: PublishAck) -> None:
        now = utcnow()
        with self._sessions.begin() as s:
            res = s.execute(update(OutboxRow)
                            .where(OutboxRow.id == msg.id, OutboxRow.published_at.is_(None))
                            .values(published_at=now, attempts=msg.attempts + 1,
                                    last_error=None))
            if res.rowcount != 1:  # type: ignore[attr-defined]
                return  # another relay marked it first; it also wrote the ledger entry
            alarm = s.get(AlarmRow, msg.alarm_id)
            if alarm is None:
                raise ServiceUnavailable(f"outbox row {msg.id} points at missing alarm "
                                         f"{msg.alarm_id}")
            alarm.published_at = now
            alarm.stream_seq = ack.seq
            self._ledger.append(s, EvidenceEvent.ALARM_PUBLISHED, alarm.case_id, {
                "alarm_id": alarm.id, "finding_id": alarm.finding_id, "subject": msg.subject,
                "bus": self.bus.backend, "stream": ack.stream, "seq": ack.seq,
                "duplicate": ack.duplicate, "attempts": msg.attempts + 1,
            })

    # -- background thread ------------------------------------------------------------------

    def wake(self) -> None:
        """Ask the background loop to look at the outbox now (call after a commit)."""
        self._wake.set()

    def start(self) -> None:
        """Run the relay in a daemon thread until :meth:`stop`."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            self._wake.clear()
            try:
                res = self.relay_once()
            except Exception:  # keep relaying: the outbox keeps the work until it succeeds
                log.exception("outbox relay pass failed")
                res = RelayResult(failed=1)
            if res.failed:
                failures += 1
                self._stop.wait(self.backoff_s(failures))
                continue
            failures = 0
            if res.published >= self.batch:
                continue  # more may be due right away
            self._wake.wait(self.poll_interval_s)
