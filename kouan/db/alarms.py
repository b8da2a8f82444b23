"""Tables of the alarm path: alarms, the transactional outbox, acknowledgements, local delivery.

Flow: ``ReviewQueue.submit_finding`` inserts the finding, its ``alarms`` row and an ``outbox``
row in one transaction. ``OutboxRelay`` publishes unpublished outbox rows to the bus with the
alarm id as message id and marks them published. Consumers record one ``alarm_acks`` row per
(alarm, consumer); its primary key is what makes a redelivered alarm a no-op.
``local_deliveries`` is the embedded bus: one row per (consumer, message id), fanned out to
every consumer registered in ``local_consumers``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kouan.db.base import Base
from kouan.db.review import ID
from kouan.db.types import UtcDateTime


class AlarmRow(Base):
    __tablename__ = "alarms"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True, doc="= Nats-Msg-Id")
    finding_id: Mapped[str] = mapped_column(
        String(ID), ForeignKey("findings.id", ondelete="RESTRICT"), index=True)
    case_id: Mapped[str] = mapped_column(String(ID))
    subject: Mapped[str] = mapped_column(String(400))
    payload: Mapped[str] = mapped_column(Text, doc="the Alarm as JSON, exactly as published")
    severity: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    stream_seq: Mapped[int | None] = mapped_column(Integer, doc="bus sequence of the publish")


class OutboxRow(Base):
    """A message committed together with its cause and not yet confirmed by the bus."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alarm_id: Mapped[str] = mapped_column(
        String(ID), ForeignKey("alarms.id", ondelete="RESTRICT"), unique=True)
    subject: Mapped[str] = mapped_column(String(400))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_outbox_pending", "published_at", "next_attempt_at"),)


class AlarmAckRow(Base):
    """Consumer ``consumer`` received and handled alarm ``alarm_id`` (at most one row each)."""

    __tablename__ = "alarm_acks"

    alarm_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    consumer: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    subject: Mapped[str] = mapped_column(String(400))
    deliveries: Mapped[int] = mapped_column(Integer, doc="bus delivery count when first handled")


class LocalDeliveryRow(Base):
    """Embedded bus: a message waiting for (or acknowledged by) one local consumer.

    ``visible_at`` delays redelivery after a refusal (``nak``); ``deliveries`` counts refusals.
    In-flight leases live in the fetching process (see ``kouan.bus.local_bus``).
    """

    __tablename__ = "local_deliveries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    consumer: Mapped[str] = mapped_column(String(64))
    msg_id: Mapped[str] = mapped_column(String(ID))
    subject: Mapped[str] = mapped_column(String(400))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    visible_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deliveries: Mapped[int] = mapped_column(Integer, doc="refused deliveries (nak) so far")
    acked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        UniqueConstraint("consumer", "msg_id", name="uq_local_deliveries_consumer"),
        Index("ix_local_deliveries_pending", "consumer", "acked_at", "visible_at"),
    )


class LocalConsumerRow(Base):
    """A durable consumer of the embedded bus; it receives messages published after it was
    registered (the configured receivers register on the bus's first use)."""

    __tablename__ = "local_consumers"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
