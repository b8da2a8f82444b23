"""Evidence ledger tables: append-only entries, a one-row head that serialises appends, and the
record of which ranges were sealed into immutable store segments.

``ledger_entries.payload`` and ``ledger_entries.at`` are text holding exactly the bytes that
were hashed (canonical JSON, fixed-width UTC timestamp), so no database round trip can change
what a verifier recomputes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kouan.db.base import Base


class LedgerEntryRow(Base):
    __tablename__ = "ledger_entries"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[str] = mapped_column(String(128))
    at: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)
    signature: Mapped[str] = mapped_column(String(100))

    __table_args__ = (Index("ix_ledger_entries_case_id_seq", "case_id", "seq"),)


class LedgerHeadRow(Base):
    """Exactly one row (id=1): the last appended seq and hash; the row lock orders appends."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


class LedgerSegmentRow(Base):
    """A sealed range ``[first_seq, last_seq]`` and the store key of its segment object."""

    __tablename__ = "ledger_segments"

    first_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    object_key: Mapped[str] = mapped_column(String(200))
    last_hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
