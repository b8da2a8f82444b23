"""Alarm receiver for gate systems and the command centre: de-duplicates, handles, acknowledges.

For each delivered message:

1. if ``alarm_acks(alarm_id, consumer)`` already exists, the alarm was handled before (the
   bus delivers at least once, a relay may publish twice): acknowledge it and stop;
2. call the handler (raise to refuse: the message is redelivered later);
3. in one database transaction insert the ``alarm_acks`` row (its primary key is the
   de-duplication record) and append ``alarm_acknowledged`` to the evidence ledger;
4. acknowledge the message on the bus.

If the process dies between 2 and 4, the bus redelivers and step 1 (or the primary key in
step 3) recognises the alarm. The recorded acknowledgement is therefore exactly-once. The
handler runs outside any database transaction (a slow gate controller must not hold the
database, which on SQLite would block every writer), so its own side effects are
at-least-once: a crash after the handler but before the commit repeats it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from kouan.bus.base import AlarmSource, BusError, Delivery, LedgerAppender
from kouan.bus.subjects import check_consumer_name
from kouan.db.alarms import AlarmAckRow, AlarmRow
from kouan.db.retry import run_with_retry
from kouan.db.review import FindingRow
from kouan.domain import Alarm, EvidenceEvent, utcnow

log = logging.getLogger(__name__)

AlarmHandler = Callable[[Alarm, Delivery], None]


@dataclass
class ConsumerStats:
    handled: int = 0
    duplicates: int = 0
    rejected: int = 0
    malformed: int = 0


class _Duplicate(Exception):
    """Internal: the alarm was already acknowledged by this consumer."""


class AlarmConsumer:
    """Consumes ``source`` as ``source.consumer`` and records acknowledgements in the ledger."""

    def __init__(
        self,
        source: AlarmSource,
        sessions: sessionmaker[Session],
        ledger: LedgerAppender,
        handler: AlarmHandler | None = None,
        *,
        batch: int = 32,
        fetch_timeout_s: float = 1.0,
        retry_delay_s: float = 1.0,
    ) -> None:
        if batch < 1 or fetch_timeout_s <= 0 or retry_delay_s < 0:
            raise ValueError("need batch >= 1, fetch_timeout_s > 0, retry_delay_s >= 0")
        self.source = source
        self.name = check_consumer_name(source.consumer)
        self._sessions = sessions
        self._ledger = ledger
        self._handler = handler
        self.batch = batch
        self.fetch_timeout_s = fetch_timeout_s
        self.retry_delay_s = retry_delay_s
        self.stats = ConsumerStats()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self, timeout_s: float | None = None) -> int:
        """Fetch one batch (waiting up to ``timeout_s``) and process it; return how many alarms
        were new to this consumer. Raises :class:`BusError` when the bus is unreachable."""
        deliveries = self.source.fetch(self.batch, timeout_s or self.fetch_timeout_s)
        return sum(self.process(d) for d in deliveries)

    def process(self, delivery: Delivery) -> bool:
        """Handle one delivery; True when it was new, False for a duplicate or a refusal."""
        try:
            alarm = Alarm.model_validate_json(delivery.data)
        except ValidationError as exc:
            # Redelivering a message that can never parse would loop forever: drop it loudly.
            self.stats.malformed += 1
            log.error("%s: dropping malformed alarm message %r on %s: %s", self.name,
                      delivery.msg_id, delivery.subject, str(exc).splitlines()[0])
            delivery.ack()
            return False
        try:
            if run_with_retry(lambda: self._seen(alarm.id), what="alarm de-duplication"):
                raise _Duplicate
            if self._handler is not None:
                self._handler(alarm, delivery)
            acked = run_with_retry(lambda: self._record(alarm, delivery),
                                   what="alarm acknowledgement")
        except _Duplicate:
            self.stats.duplicates += 1
            delivery.ack()
            return False
        except Exception as exc:
            self.stats.rejected += 1
            log.warning("%s: alarm %s not handled (will be redelivered): %s", self.name,
                        alarm.id, exc)
            delivery.nak(self.retry_delay_s)
            return False
        self.stats.handled += 1
        if not acked:
            delivery.ack()
        return True

    def _seen(self, alarm_id: str) -> bool:
        with self._sessions() as s:
            return s.get(AlarmAckRow, (alarm_id, self.name)) is not None

    def _record(self, alarm: Alarm, delivery: Delivery) -> bool:
        """Write the acknowledgement; True if the bus message was acknowledged in the same
        transaction (embedded bus on the same database)."""
        try:
            with self._sessions.begin() as s:
                received = utcnow()
                s.add(AlarmAckRow(alarm_id=alarm.id, consumer=self.name, received_at=received,
                                  subject=delivery.subject, deliveries=delivery.num_delivered))
                s.flush()  # a concurrent twin of this consumer fails here
                self._ledger.append(s, EvidenceEvent.ALARM_ACKNOWLEDGED, self._case_id(s, alarm), {
                    "alarm_id": alarm.id, "finding_id": alarm.finding_id,
                    "consumer": self.name, "subject": delivery.subject,
                    "deliveries": delivery.num_delivered, "received_at": received.isoformat(),
                })
                ack_in = getattr(delivery, "ack_in", None)
                return bool(ack_in(s)) if callable(ack_in) else False
        except IntegrityError as exc:
            log.warning("%s: alarm %s was handled concurrently by a twin of this consumer",
                        self.name, alarm.id)
            raise _Duplicate from exc

    @staticmethod
    def _case_id(s: Session, alarm: Alarm) -> str:
        case_id = s.scalar(select(AlarmRow.case_id).where(AlarmRow.id == alarm.id))
        if case_id is None:
            case_id = s.scalar(select(FindingRow.case_id).where(FindingRow.id == alarm.finding_id))
        # An alarm from another node's database: file it under its finding.
        return case_id or alarm.finding_id

    # -- background thread ------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"alarm-consumer-{self.name}",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except BusError as exc:
                log.warning("%s: bus unavailable: %s", self.name, exc)
                self._stop.wait(self.retry_delay_s)
            except Exception:
                log.exception("%s: consumer pass failed", self.name)
                self._stop.wait(self.retry_delay_s)

