"""Embedded alarm bus: the durable outbox delivers into a local table that local consumers read.

``publish`` inserts one ``local_deliveries`` row per registered consumer, keyed by
``(consumer, msg_id)``, so a re-published alarm is a recognised duplicate exactly as with
JetStream's ``Nats-Msg-Id``. Consumers are durable: ``subscribe`` registers a name in
``local_consumers`` (the configured ones register on first use), and from then on every
message is kept for it until it acknowledges, in whichever process it runs.

Leases are held in memory, not in the database: a fetched row is hidden from the other
fetchers of the same consumer *in this process* for ``ack_wait_s`` and handed out again if
it was not acknowledged by then. Writing a lease row per fetch would put one more commit
(an fsync on SQLite) on every alarm's path. A consumer that dies loses nothing (its rows stay
unacknowledged and are fetched again); two *processes* fetching as the same consumer may
both receive a message, which ``AlarmConsumer`` records once (use NATS to spread one
consumer over several processes). ``nak(delay)`` hides a row for ``delay`` in every process.

Consumers in the same process are woken as soon as a message is committed; consumers in
other processes see it within ``poll_interval_s``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from kouan.bus.base import BusError, Delivery, PublishAck
from kouan.bus.subjects import DEFAULT_CONSUMERS, check_consumer_name
from kouan.db.alarms import LocalConsumerRow, LocalDeliveryRow
from kouan.db.retry import run_with_retry
from kouan.domain import utcnow
from kouan.errors import ServiceUnavailable

log = logging.getLogger(__name__)


class _Arrivals:
    """In-process "something was published" signal without lost wake-ups: a waiter passes
    the generation it saw before looking, and does not sleep if it has moved since."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.gen = 0

    def notify(self) -> None:
        with self._cond:
            self.gen += 1
            self._cond.notify_all()

    def wait(self, seen_gen: int, timeout_s: float) -> None:
        with self._cond:
            if self.gen == seen_gen:
                self._cond.wait(timeout_s)


class _Leases:
    """Rows that this process's fetchers hold: ``(consumer, seq) -> (until, times handed)``,
    ``until`` on the monotonic clock.

    A settled row stays held a little longer (``hold``): a fetcher whose SELECT ran just
    before the acknowledgement committed must not hand the row out again.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[tuple[str, int], tuple[float, int]] = {}

    def held(self, consumer: str) -> int:
        now = time.monotonic()
        with self._lock:
            return sum(1 for (c, _), (until, _) in self._held.items()
                       if c == consumer and until > now)

    def take(self, consumer: str, seqs: list[int], ack_wait_s: float,
             limit: int) -> dict[int, int]:
        """Lease up to ``limit`` of ``seqs`` that nobody here holds; ``{seq: times handed}``."""
        now = time.monotonic()
        won: dict[int, int] = {}
        with self._lock:
            for key in [k for k, (until, _) in self._held.items() if until <= now - 60.0]:
                del self._held[key]  # long settled: forget
            for seq in seqs:
                until, times = self._held.get((consumer, seq), (0.0, 0))
                if until > now:
                    continue
                self._held[(consumer, seq)] = (now + ack_wait_s, times + 1)
                won[seq] = times + 1
                if len(won) == limit:
                    break
        return won

    def settle(self, consumer: str, seq: int, hold_s: float, *, refused: bool) -> None:
        """The row was acknowledged or refused: keep it from fetchers here for ``hold_s``.
        A refusal is counted in the row itself, so the hand-out count starts again."""
        with self._lock:
            _, times = self._held.get((consumer, seq), (0.0, 0))
            self._held[(consumer, seq)] = (time.monotonic() + hold_s, 0 if refused else times)


class LocalAlarmBus:
    """The default bus when ``KOUAN_BUS_URL`` is unset (SQLite or PostgreSQL tables)."""

    backend = "local"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        consumers: Sequence[str] = DEFAULT_CONSUMERS,
        *,
        ack_wait_s: float = 30.0,
        poll_interval_s: float = 0.2,
        max_age_s: float = 30 * 86400.0,
    ) -> None:
        if not consumers:
            raise ValueError("at least one consumer is needed")
        if ack_wait_s <= 0 or poll_interval_s <= 0 or max_age_s <= 0:
            raise ValueError("ack_wait_s, poll_interval_s and max_age_s must be > 0")
        self._sessions = sessions
        self.consumers = tuple(check_consumer_name(c) for c in consumers)
        self.ack_wait_s = ack_wait_s
        self.poll_interval_s = poll_interval_s
        self._arrived = _Arrivals()
        self._leases = _Leases()
        self._registered: set[str] = set()
        self.max_age_s = max_age_s
        self._last_purge = 0.0

    @property
    def target(self) -> str:
        bind = self._sessions.kw.get("bind")
        url = bind.url.render_as_string() if bind is not None else "?"
        return f"local outbox ({url})"

    def publish(self, subject: str, payload: bytes, msg_id: str) -> PublishAck:
        try:
            seq, duplicate = run_with_retry(lambda: self._insert(subject, payload, msg_id),
                                            what="local bus publish", attempts=3)
        except ServiceUnavailable as exc:
            raise BusError(str(exc)) from exc
        self._arrived.notify()
        if time.monotonic() - self._last_purge > 3600:
            self._last_purge = time.monotonic()
            try:
                self.purge(timedelta(seconds=self.max_age_s))
            except Exception:  # housekeeping must never fail a publish
                log.exception("purging old local deliveries failed")
        return PublishAck(stream="local", seq=seq, duplicate=duplicate)

    def purge(self, older_than: timedelta) -> int:
        """Delete acknowledged deliveries older than ``older_than`` (like a stream's max age;
        the ``alarms`` table keeps the record). Returns how many rows went."""
        with self._sessions.begin() as s:
            res = s.execute(delete(LocalDeliveryRow)
                            .where(LocalDeliveryRow.acked_at.is_not(None),
                                   LocalDeliveryRow.created_at < utcnow() - older_than))
        return int(res.rowcount or 0)  # type: ignore[attr-defined]

    def _register(self, names: Sequence[str]) -> None:
        missing = [n for n in names if n not in self._registered]
        if not missing:
            return
        try:
            with self._sessions.begin() as s:
                have = set(s.scalars(select(LocalConsumerRow.name)
                                     .where(LocalConsumerRow.name.in_(missing))).all())
                now = utcnow()
                s.add_all(LocalConsumerRow(name=n, created_at=now) for n in missing
                          if n not in have)
        except IntegrityError:
            pass  # registered concurrently by another process: just as good
        self._registered.update(missing)

    def _insert(self, subject: str, payload: bytes, msg_id: str) -> tuple[int, bool]:
        text = payload.decode("utf-8")
        self._register(self.consumers)
        try:
            with self._sessions.begin() as s:
                consumers = set(s.scalars(select(LocalConsumerRow.name)).all())
                have = set(s.scalars(select(LocalDeliveryRow.consumer)
                                     .where(LocalDeliveryRow.msg_id == msg_id)).all())
                now = utcnow()
                for consumer in sorted(consumers - have):
                    s.add(LocalDeliveryRow(consumer=consumer, msg_id=msg_id, subject=subject,
                                           payload=text, created_at=now, visible_at=now,
                                           deliveries=0, acked_at=None))
                duplicate = bool(have)
        except IntegrityError:
            # Another relay inserted the same message between our SELECT and INSERT.
            duplicate = True
        with self._sessions() as s:
            seq = s.scalar(select(func.min(LocalDeliveryRow.seq))
                           .where(LocalDeliveryRow.msg_id == msg_id))
        return int(seq or 0), duplicate

    def subscribe(self, consumer: str) -> LocalSubscription:
        """A durable source for ``consumer``, registering the name on first use."""
        check_consumer_name(consumer)
        self._register([consumer])
        return LocalSubscription(self._sessions, consumer, ack_wait_s=self.ack_wait_s,
                                 poll_interval_s=self.poll_interval_s, arrived=self._arrived,
                                 leases=self._leases)

    def close(self) -> None:
        self._arrived.notify()


class LocalDelivery:
    """One ``local_deliveries`` row handed to a consumer.

    ``num_delivered`` = refused deliveries so far (``nak``, counted in the row) + times this
    process handed the row out.
    """

    def __init__(self, sub: LocalSubscription, row: LocalDeliveryRow, handed: int) -> None:
        self._sub = sub
        self.seq = row.seq
        self.subject = row.subject
        self.msg_id = row.msg_id
        self.data = row.payload.encode("utf-8")
        self.num_delivered = row.deliveries + handed

    def ack(self) -> None:
        self._sub._settle(self.seq, acked=True, delay_s=0.0)

    def ack_in(self, session: Session) -> bool:
        """Acknowledge inside the caller's transaction when it runs on this bus's database
        (saves a commit on the consumer's path); False when it cannot."""
        bind = self._sub._sessions.kw.get("bind")
        if bind is None or session.get_bind() is not bind:
            return False
        session.execute(update(LocalDeliveryRow)
                        .where(LocalDeliveryRow.seq == self.seq,
                               LocalDeliveryRow.acked_at.is_(None))
                        .values(acked_at=utcnow()))
        self._sub._leases.settle(self._sub.consumer, self.seq, self._sub._ack_wait_s,
                                 refused=False)
        return True

    def nak(self, delay_s: float = 0.0) -> None:
        self._sub._settle(self.seq, acked=False, delay_s=delay_s)


class LocalSubscription:
    """A consumer's cursor over ``local_deliveries`` (use :meth:`LocalAlarmBus.subscribe`)."""

    def __init__(self, sessions: sessionmaker[Session], consumer: str, *, ack_wait_s: float,
                 poll_interval_s: float, arrived: _Arrivals, leases: _Leases) -> None:
        self._sessions = sessions
        self.consumer = consumer
        self._ack_wait_s = ack_wait_s
        self._poll = poll_interval_s
        self._arrived = arrived
        self._leases = leases

    def fetch(self, max_msgs: int, timeout_s: float) -> list[Delivery]:
        if max_msgs < 1:
            raise ValueError("max_msgs must be >= 1")
        deadline = time.monotonic() + max(0.0, timeout_s)
        while True:
            seen = self._arrived.gen
            try:
                got = run_with_retry(lambda: self._take(max_msgs), what="local bus fetch",
                                     attempts=3)
            except ServiceUnavailable as exc:
                raise BusError(str(exc)) from exc
            left = deadline - time.monotonic()
            if got or left <= 0:
                return got
            self._arrived.wait(seen, min(left, self._poll))

    def _take(self, max_msgs: int) -> list[Delivery]:
        """Read visible, unacknowledged rows in order and lease up to ``max_msgs`` of them."""
        # Skip past rows other fetchers here hold, so they cannot starve this one.
        limit = max_msgs + self._leases.held(self.consumer)
        with self._sessions() as s:
            rows = s.scalars(
                select(LocalDeliveryRow)
                .where(LocalDeliveryRow.consumer == self.consumer,
                       LocalDeliveryRow.acked_at.is_(None),
                       LocalDeliveryRow.visible_at <= utcnow())
                .order_by(LocalDeliveryRow.seq).limit(limit)).all()
        if not rows:
            return []
        won = self._leases.take(self.consumer, [r.seq for r in rows], self._ack_wait_s,
                                max_msgs)
        return [LocalDelivery(self, r, won[r.seq]) for r in rows if r.seq in won]

    def _settle(self, seq: int, *, acked: bool, delay_s: float) -> None:
        now = utcnow()
        values: dict[str, object] = (
            {"acked_at": now} if acked else
            {"visible_at": now + timedelta(seconds=max(0.0, delay_s)),
             "deliveries": LocalDeliveryRow.deliveries + 1})

        def run() -> None:
            with self._sessions.begin() as s:
                s.execute(update(LocalDeliveryRow)
                          .where(LocalDeliveryRow.seq == seq,
                                 LocalDeliveryRow.acked_at.is_(None))
                          .values(**values))

        try:
            run_with_retry(run, what="local bus ack", attempts=3)
        except ServiceUnavailable as exc:
            raise BusError(str(exc)) from exc
        self._leases.settle(self.consumer, seq, self._ack_wait_s if acked else delay_s,
                            refused=not acked)
        if not acked:
            self._arrived.notify()

    def pending(self) -> int:
        """Messages not yet acknowledged by this consumer."""
        with self._sessions() as s:
            return int(s.scalar(select(func.count()).select_from(LocalDeliveryRow)
                                .where(LocalDeliveryRow.consumer == self.consumer,
                                       LocalDeliveryRow.acked_at.is_(None))) or 0)

    def close(self) -> None:
        return None
