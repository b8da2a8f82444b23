"""Seams of the alarm path: the bus, a consumer's message source, the ledger.

Every method here is synchronous (the NATS adapter runs its own event loop in a thread) so
the review queue, the outbox relay, CLI commands and FastAPI's sync routes all call the same
code. A message is raw bytes with a subject and a de-duplication id (the alarm id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from kouan.domain import EvidenceEvent
from kouan.errors import ServiceUnavailable


class BusError(ServiceUnavailable):
    """The bus did not confirm an operation (unreachable, timed out, refused)."""


@dataclass(frozen=True)
class PublishAck:
    """The bus's confirmation: the message is stored durably.

    ``duplicate`` is true when a message with the same id was already stored (JetStream's
    ``Nats-Msg-Id`` window, or the local delivery table); ``seq`` is then the original's.
    """

    stream: str
    seq: int
    duplicate: bool


class AlarmBus(Protocol):
    """Where the outbox relay hands alarms over."""

    backend: str  # "nats" or "local"

    def publish(self, subject: str, payload: bytes, msg_id: str) -> PublishAck:
        """Store ``payload`` on ``subject`` at most once per ``msg_id``; raise
        :class:`BusError` when the bus cannot confirm it."""
        ...

    def subscribe(self, consumer: str) -> AlarmSource:
        """A durable source for the named consumer (created on first use)."""
        ...

    def close(self) -> None: ...


class Delivery(Protocol):
    """One message handed to a consumer; it is redelivered unless acknowledged in time."""

    subject: str
    msg_id: str
    data: bytes
    num_delivered: int

    def ack(self) -> None: ...

    def nak(self, delay_s: float = 0.0) -> None: ...


class AlarmSource(Protocol):
    """A durable consumer's view of the bus (JetStream pull consumer or local table)."""

    consumer: str

    def fetch(self, max_msgs: int, timeout_s: float) -> list[Delivery]:
        """Up to ``max_msgs`` messages; waits up to ``timeout_s`` for the first, returns ``[]``
        when none arrived. Raises :class:`BusError` when the bus is unreachable."""
        ...

    def close(self) -> None: ...


class LedgerAppender(Protocol):
    """The evidence ledger as the alarm path needs it (``kouan.evidence.ledger.Ledger``).

    ``append`` adds a signed, hash-chained entry inside the caller's ``session`` so the entry
    commits (or rolls back) together with the rows it describes.
    """

    def append(self, session: Session, event: EvidenceEvent, case_id: str,
               payload: dict[str, Any]) -> Any: ...
