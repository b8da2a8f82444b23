"""Tables of the review queue: findings, review items and each item's history.

A finding's ``id`` is its idempotency key: it is minted by the producer (pipeline, gate API)
before the first attempt, so a retry after a dropped connection re-sends the same id and the
primary key turns a would-be duplicate into "already stored". ``content_sha256`` lets the
service tell an honest retry (same content) from an id collision (different content).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kouan.db.base import Base
from kouan.db.types import UtcDateTime

ID = 128  # length of domain ids (kouan.domain.models.Id)


class FindingRow(Base):
    __tablename__ = "findings"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(ID), index=True)
    type: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(16))
    severity_rank: Mapped[int] = mapped_column(Integer, doc="0 info .. 4 critical, for sorting")
    port_id: Mapped[str] = mapped_column(String(ID))
    lane_id: Mapped[str | None] = mapped_column(String(ID))
    modality: Mapped[str | None] = mapped_column(String(40))
    explanation: Mapped[str] = mapped_column(Text)
    detections: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    evidence: Mapped[list[str]] = mapped_column(JSON, doc="sha256 hex of stored objects")
    model_name: Mapped[str | None] = mapped_column(String(128))
    model_version: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    content_sha256: Mapped[str] = mapped_column(String(64))


class ReviewItemRow(Base):
    """One finding awaiting (or past) human review.

    ``version`` increases on every state change; writers update ``WHERE version = :seen`` so
    two reviewers racing for the same item cannot both win.
    """

    __tablename__ = "review_items"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    finding_id: Mapped[str] = mapped_column(
        String(ID), ForeignKey("findings.id", ondelete="RESTRICT"), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    severity_rank: Mapped[int] = mapped_column(Integer, doc="copy of the finding's, for ordering")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decision: Mapped[str | None] = mapped_column(String(16))
    reason_code: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_review_items_queue_order", "status", "severity_rank", "created_at"),
    )


class ReviewEventRow(Base):
    """Append-only history of a review item: queued, claimed, released, renewed, decided."""

    __tablename__ = "review_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(
        String(ID), ForeignKey("review_items.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
