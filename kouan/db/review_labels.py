"""Tables of the review workstation: reviewed labels (box corrections) and threat image
projection (TIP) trials.

``review_labels`` is append-only: every save of an item's boxes on one image is a new
revision (``revision`` = previous + 1, unique per item and image), so the label history is
complete and two reviewers saving at once cannot both win (the second insert collides).
Boxes are pixel ``xyxy`` in the frame of the stored image (x right, y down).

``tip_trials`` records each synthetic threat projected into a reviewer's view of an item and
whether the reviewer found it; ``tip_settings`` holds the projection rate (one row).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kouan.db.base import Base
from kouan.db.review import ID
from kouan.db.types import UtcDateTime


class ReviewLabelRow(Base):
    """One saved revision of the boxes a reviewer (or an import) gave one image of an item."""

    __tablename__ = "review_labels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(
        String(ID), ForeignKey("review_items.id", ondelete="CASCADE"))
    image_sha256: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer, doc="1, 2, ... per (item, image)")
    author: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(32), doc="reviewer or import")
    boxes: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, doc="[{label, box: [x1, y1, x2, y2] px, score, origin}]")
    image_width: Mapped[int] = mapped_column(Integer)
    image_height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        UniqueConstraint("item_id", "image_sha256", "revision",
                         name="uq_review_labels_item_id"),
    )


class TipTrialRow(Base):
    """A synthetic threat shown to ``reviewer`` in ``item_id``'s image (the reviewer is not told).

    ``outcome``: ``pending`` while the reviewer works the item, then ``hit`` (the reviewer
    boxed the threat), ``miss`` (decided without boxing it) or ``void`` (the item left the
    reviewer without a decision: lease lost, released).
    """

    __tablename__ = "tip_trials"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    item_id: Mapped[str] = mapped_column(
        String(ID), ForeignKey("review_items.id", ondelete="CASCADE"))
    reviewer: Mapped[str] = mapped_column(String(200))
    image_sha256: Mapped[str] = mapped_column(String(64))
    threat_label: Mapped[str] = mapped_column(String(100))
    box: Mapped[list[float]] = mapped_column(JSON, doc="[x1, y1, x2, y2] px of the threat")
    seed: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_tip_trials_item_id", "item_id", "reviewer", "outcome"),)


class TipSettingsRow(Base):
    """The TIP projection rate (fraction of claims that get a synthetic threat); one row."""

    __tablename__ = "tip_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rate: Mapped[float] = mapped_column(Float)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
