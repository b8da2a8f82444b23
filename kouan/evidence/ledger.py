"""The append-only, hash-chained, Ed25519-signed evidence ledger (database side).

Other components append inside their own database transaction::

    with services.sessions.begin() as s:
        s.add(review_row)
        ledger.append(s, EvidenceEvent.REVIEW_DECISION, case_id, {"decision": "confirm", ...})

so the entry commits (or rolls back) with the change it records. Appends are serialised by the
one-row ``ledger_head`` table: ``UPDATE ledger_head SET seq = seq + 1 ... RETURNING`` takes the
row lock on PostgreSQL (a concurrent appender waits for our commit, then sees the new head) and
the database write lock on SQLite (others wait up to ``busy_timeout``), so sequence numbers are
gap-free and every ``prev_hash`` is the hash of the entry just before.

Entry hash: sha256 of the canonical JSON of ``{seq, event, case_id, at, payload, prev_hash}``
(:mod:`kouan.evidence.canonical`); signature: Ed25519 over the 32 raw bytes of that hash.
A payload may list the objects it refers to as ``payload["objects"] = [{"sha256": ...,
"role": ..., "media_type": ..., "bytes": ...}]``; the case manifest is built from those lists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from kouan.db.ledger import LedgerEntryRow, LedgerHeadRow
from kouan.domain import EvidenceEvent, EvidenceRecord, utcnow
from kouan.evidence.canonical import (
    GENESIS_HASH,
    entry_hash,
    format_at,
    normalise_payload,
    parse_at,
)
from kouan.evidence.keys import Signer, encode_signature

_CASE_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_HEAD_ID = 1

Line = dict[str, Any]
"""A ledger entry as stored in segments and bundles: the hashed fields plus ``entry_hash`` and
``signature``; ``at`` is the exact hashed string, ``payload`` a parsed JSON object."""


def check_case_id(case_id: str) -> str:
    """Return ``case_id`` or raise ``ValueError`` (ids become S3 key segments)."""
    if not isinstance(case_id, str) or not _CASE_ID_RE.match(case_id) or case_id in {".", ".."}:
        raise ValueError(f"case id {case_id!r} must be 1-128 characters of A-Z a-z 0-9 . _ : -")
    return case_id


class Ledger:
    """Appends signed entries in a caller's session; the caller owns the transaction."""

    def __init__(self, signer: Signer) -> None:
        self.signer = signer

    def append(self, session: Session, event: EvidenceEvent, case_id: str,
               payload: dict[str, Any]) -> EvidenceRecord:
        """Add one entry in ``session`` (visible to others once the caller commits).

        Raises ``ValueError`` for an unknown event, a bad case id or a payload that is not a
        JSON object; nothing is written then. Holds the ledger head lock until the caller's
        transaction ends, so keep that transaction short.
        """
        event = EvidenceEvent(event)
        check_case_id(case_id)
        body_payload, payload_text = normalise_payload(payload)
        seq, prev_hash = self._next_seq(session)
        at = format_at(utcnow())  # taken under the head lock, so times follow seq order
        body = {"seq": seq, "event": event.value, "case_id": case_id, "at": at,
                "payload": body_payload, "prev_hash": prev_hash}
        digest = entry_hash(body)
        signature = encode_signature(self.signer.sign(bytes.fromhex(digest)))
        session.execute(insert(LedgerEntryRow).values(
            seq=seq, event=event.value, case_id=case_id, at=at, payload=payload_text,
            prev_hash=prev_hash, entry_hash=digest, signature=signature))
        session.execute(update(LedgerHeadRow).where(LedgerHeadRow.id == _HEAD_ID)
                        .values(last_hash=digest)
                        .execution_options(synchronize_session=False))
        return EvidenceRecord(seq=seq, event=event, case_id=case_id, at=parse_at(at),
                              payload=body_payload, prev_hash=prev_hash, entry_hash=digest,
                              signature=signature)

    @staticmethod
    def _next_seq(session: Session) -> tuple[int, str]:
        """Lock the head row by writing it first; return ``(new seq, previous hash)``."""
        row = session.execute(
            update(LedgerHeadRow).where(LedgerHeadRow.id == _HEAD_ID)
            .values(seq=LedgerHeadRow.seq + 1)
            .returning(LedgerHeadRow.seq, LedgerHeadRow.last_hash)
            .execution_options(synchronize_session=False)).one_or_none()
        if row is not None:
            return int(row[0]), str(row[1])
        # Schema made by create_all() instead of the migration: the head row is missing.
        session.execute(insert(LedgerHeadRow).values(id=_HEAD_ID, seq=0, last_hash=GENESIS_HASH))
        return 0, GENESIS_HASH


def row_to_line(row: LedgerEntryRow) -> Line:
    return {"seq": row.seq, "event": row.event, "case_id": row.case_id, "at": row.at,
            "payload": json.loads(row.payload), "prev_hash": row.prev_hash,
            "entry_hash": row.entry_hash, "signature": row.signature}


def line_to_record(line: Line) -> EvidenceRecord:
    return EvidenceRecord(seq=line["seq"], event=EvidenceEvent(line["event"]),
                          case_id=line["case_id"], at=parse_at(line["at"]),
                          payload=line["payload"], prev_hash=line["prev_hash"],
                          entry_hash=line["entry_hash"], signature=line["signature"])


def iter_lines(session: Session, *, after_seq: int = -1, upto_seq: int | None = None,
               batch: int = 2000) -> Iterator[Line]:
    """Entries with ``after_seq < seq <= upto_seq`` in seq order, read in batches."""
    last = after_seq
    while True:
        q = select(LedgerEntryRow).where(LedgerEntryRow.seq > last)
        if upto_seq is not None:
            q = q.where(LedgerEntryRow.seq <= upto_seq)
        rows = session.scalars(q.order_by(LedgerEntryRow.seq).limit(batch)).all()
        for r in rows:
            yield row_to_line(r)
        if len(rows) < batch:
            return
        last = rows[-1].seq


def case_lines(session: Session, case_id: str) -> list[Line]:
    """Every entry of one case, in seq order (empty list when the case is unknown)."""
    rows = session.scalars(select(LedgerEntryRow).where(LedgerEntryRow.case_id == case_id)
                           .order_by(LedgerEntryRow.seq)).all()
    return [row_to_line(r) for r in rows]


def head(session: Session) -> tuple[int, str]:
    """``(last seq, last hash)`` from the head row; ``(-1, GENESIS_HASH)`` for an empty ledger."""
    row = session.get(LedgerHeadRow, _HEAD_ID)
    return (row.seq, row.last_hash) if row is not None else (-1, GENESIS_HASH)
