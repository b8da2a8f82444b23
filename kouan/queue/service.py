"""The review queue: findings in, human decisions out, alarms via the transactional outbox.

Life of a review item::

    queued --claim--> claimed (lease) --decide--> confirmed | dismissed | escalated
      ^                  |  lease expires, or release
      +------------------+

- ``submit_finding`` stores the finding, its review item and (optionally) its alarm plus the
  outbox row that the relay will publish - all in ONE transaction together with the ledger
  entry, so either everything is recorded or nothing is. It is idempotent on ``finding.id``:
  a client that lost the answer (dropped connection) re-submits the same finding and gets
  the rows stored the first time.
- ``claim`` gives one reviewer an exclusive, expiring lease. Every change is a conditional
  ``UPDATE ... WHERE version = :seen`` so two reviewers never hold (or decide) one item. An
  expired lease needs no sweeper: the item simply reads as ``queued`` and the next claim
  takes it over.
- ``decide`` records who decided what, when and why, and appends ``review_decision`` to the
  ledger in the same transaction.
- Two-person rule: confirming a finding whose severity is in ``two_person_severities``
  (default: critical) takes two different reviewers. The first confirmation is recorded
  (history ``first_confirmed``, ledger ``status: awaiting_second_confirmation``) and the item
  returns to the queue; its first confirmer can no longer claim it.

All methods are synchronous, open their own transactions and retry transient database
errors (each unit of work is idempotent, so a retry after an unknown outcome is safe).
Errors: :class:`ReviewItemNotFound` (HTTP 404), :class:`ReviewConflict` (HTTP 409),
``ValueError`` for malformed arguments (HTTP 422), ``ServiceUnavailable`` (HTTP 503).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Literal, TypeVar

from sqlalchemy import Select, and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from kouan.bus.base import LedgerAppender
from kouan.bus.subjects import alarm_subject
from kouan.db.alarms import AlarmRow, OutboxRow
from kouan.db.retry import run_with_retry
from kouan.db.review import FindingRow, ReviewEventRow, ReviewItemRow
from kouan.domain import (
    Alarm,
    EvidenceEvent,
    Finding,
    FindingType,
    Modality,
    ReviewDecision,
    ReviewItem,
    ReviewStatus,
    Severity,
    new_id,
    utcnow,
)
from kouan.queue.errors import FindingConflict, ReviewConflict, ReviewItemNotFound
from kouan.queue.records import (
    DECIDED,
    FIRST_CONFIRMED,
    TERMINAL,
    ReviewEntry,
    ReviewEvent,
    entry_from_rows,
    event_from_row,
    finding_content_sha256,
    finding_row,
    is_lease_live,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
Order = Literal["priority", "oldest", "newest"]


@dataclass(frozen=True)
class QueueFilter:
    """Which items to list, count or claim next. ``None`` fields do not filter.

    ``statuses`` are *effective* statuses (an expired claim counts as ``queued``).
    ``created_after``/``created_before`` bound the time the item entered the queue (aware
    UTC); "older than 10 minutes" is ``created_before=utcnow() - timedelta(minutes=10)``.
    """

    statuses: frozenset[ReviewStatus] | None = None
    severities: frozenset[Severity] | None = None
    min_severity: Severity | None = None
    port_id: str | None = None
    lane_id: str | None = None
    modality: Modality | None = None
    finding_type: FindingType | None = None
    case_id: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


def _check_actor(name: str, what: str = "reviewer") -> str:
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > 200:
        raise ValueError(f"{what} must be 1-200 characters")
    return name


class ReviewQueue:
    """Review-queue service over SQLAlchemy ``sessions`` (SQLite or PostgreSQL).

    ``ledger`` receives ``finding`` and ``review_decision`` entries inside the same
    transactions. ``on_alarm_committed`` is called after every submission that has a
    committed alarm (wire it to :meth:`kouan.bus.outbox.OutboxRelay.wake` for immediate
    publishing).
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        ledger: LedgerAppender,
        *,
        on_alarm_committed: Callable[[], None] | None = None,
        default_lease_s: float = 300.0,
        max_lease_s: float = 4 * 3600.0,
        db_attempts: int = 6,
        two_person_severities: frozenset[Severity] = frozenset({Severity.CRITICAL}),
    ) -> None:
        if not 0 < default_lease_s <= max_lease_s:
            raise ValueError("need 0 < default_lease_s <= max_lease_s")
        self._sessions = sessions
        self._ledger = ledger
        self._on_alarm = on_alarm_committed
        self.default_lease_s = default_lease_s
        self.max_lease_s = max_lease_s
        self._attempts = db_attempts
        self.two_person_severities = frozenset(two_person_severities)

    def _retry(self, fn: Callable[[], T], what: str) -> T:
        return run_with_retry(fn, what=what, attempts=self._attempts)

    # -- submit -----------------------------------------------------------------------------

    def submit_finding(self, finding: Finding,
                       raise_alarm: bool = False) -> tuple[ReviewItem, Alarm | None]:
        """Queue ``finding`` for review and, if ``raise_alarm``, queue its alarm for the bus.

        Returns the review item and the alarm (``None`` without one). Re-submitting the same
        finding id returns what was stored the first time; the same id with different
        content raises :class:`FindingConflict`.
        """
        digest = finding_content_sha256(finding, raise_alarm)
        item, alarm, _created = self._retry(
            partial(self._submit_once, finding, raise_alarm, digest), "submit finding")
        # Also on a re-submission: its first attempt may have committed without the caller
        # (or the relay) hearing of it. Waking the relay twice costs nothing.
        if alarm is not None and self._on_alarm is not None:
            try:
                self._on_alarm()
            except Exception:  # the alarm is committed; the relay's poll will find it
                log.exception("on_alarm_committed callback failed")
        return item, alarm

    def _submit_once(self, finding: Finding, raise_alarm: bool,
                     digest: str) -> tuple[ReviewItem, Alarm | None, bool]:
        try:
            with self._sessions.begin() as s:
                existing = self._existing(s, finding.id, digest)
                if existing is not None:
                    return (*existing, False)
                item, alarm = self._insert(s, finding, raise_alarm, digest)
                return item, alarm, True
        except IntegrityError:
            # A concurrent submission of the same id won the race: return its rows.
            with self._sessions() as s:
                existing = self._existing(s, finding.id, digest)
            if existing is None:
                raise
            return (*existing, False)

    def _existing(self, s: Session, finding_id: str,
                  digest: str) -> tuple[ReviewItem, Alarm | None] | None:
        row = s.get(FindingRow, finding_id)
        if row is None:
            return None
        if row.content_sha256 != digest:
            raise FindingConflict(f"finding {finding_id} was already submitted with different "
                                  "content; give a new finding a new id")
        item = s.scalar(select(ReviewItemRow).where(ReviewItemRow.finding_id == finding_id))
        if item is None:
            raise ReviewItemNotFound(f"finding {finding_id} has no review item")
        alarm_row = s.scalar(select(AlarmRow).where(AlarmRow.finding_id == finding_id))
        alarm = Alarm.model_validate_json(alarm_row.payload) if alarm_row else None
        return entry_from_rows(item, row, utcnow()).item, alarm

    def _insert(self, s: Session, finding: Finding, raise_alarm: bool,
                digest: str) -> tuple[ReviewItem, Alarm | None]:
        now = utcnow()
        s.add(finding_row(finding, digest))
        s.flush()  # the finding must exist before rows that reference it
        item_row = ReviewItemRow(
            id=new_id("rev"), finding_id=finding.id, status=ReviewStatus.QUEUED.value,
            severity_rank=finding.severity.rank, created_at=now, updated_at=now, version=1)
        s.add(item_row)
        s.flush()
        s.add(ReviewEventRow(item_id=item_row.id, at=now, actor="system", action="queued",
                             detail={"finding_id": finding.id}))
        alarm: Alarm | None = None
        subject: str | None = None
        if raise_alarm:
            alarm = Alarm(finding_id=finding.id, port_id=finding.port_id,
                          lane_id=finding.lane_id, severity=finding.severity, type=finding.type,
                          summary=_summary(finding), created_at=now)
            subject = alarm_subject(alarm)
            payload = alarm.model_dump_json()
            s.add(AlarmRow(id=alarm.id, finding_id=finding.id, case_id=finding.case_id,
                           subject=subject, payload=payload, severity=alarm.severity.value,
                           created_at=now))
            s.flush()
            s.add(OutboxRow(alarm_id=alarm.id, subject=subject, payload=payload, created_at=now,
                            attempts=0, next_attempt_at=now))
        s.flush()  # surface a duplicate id before the ledger entry is written
        self._ledger.append(s, EvidenceEvent.FINDING, finding.case_id, {
            "finding": finding.model_dump(mode="json"), "content_sha256": digest,
            "review_item_id": item_row.id,
            "alarm_id": alarm.id if alarm else None, "alarm_subject": subject,
        })
        return entry_from_rows(item_row, s.get_one(FindingRow, finding.id), now).item, alarm

    # -- read -------------------------------------------------------------------------------

    def get(self, item_id: str) -> ReviewEntry:
        """The item with its finding; :class:`ReviewItemNotFound` if there is none."""
        with self._sessions() as s:
            row = s.execute(self._joined().where(ReviewItemRow.id == item_id)).first()
            if row is None:
                raise ReviewItemNotFound(f"no review item {item_id!r}")
            return entry_from_rows(row[0], row[1], utcnow(), row[2])

    def get_by_finding(self, finding_id: str) -> ReviewEntry:
        with self._sessions() as s:
            row = s.execute(self._joined().where(ReviewItemRow.finding_id == finding_id)).first()
            if row is None:
                raise ReviewItemNotFound(f"no review item for finding {finding_id!r}")
            return entry_from_rows(row[0], row[1], utcnow(), row[2])

    def list_items(self, filter: QueueFilter | None = None, *, order: Order = "priority",
             limit: int = 50, offset: int = 0) -> list[ReviewEntry]:
        """Items matching ``filter``: ``priority`` = most severe first, then oldest first."""
        if not 1 <= limit <= 1000 or offset < 0:
            raise ValueError("limit must be 1-1000 and offset >= 0")
        now = utcnow()
        stmt = self._where(self._joined(), filter or QueueFilter(), now)
        stmt = stmt.order_by(*_ORDERS[order]).limit(limit).offset(offset)
        with self._sessions() as s:
            return [entry_from_rows(i, f, now, a) for i, f, a in s.execute(stmt).all()]

    def count(self, filter: QueueFilter | None = None) -> int:
        now = utcnow()
        stmt = self._where(select(func.count(ReviewItemRow.id)).join(
            FindingRow, FindingRow.id == ReviewItemRow.finding_id), filter or QueueFilter(), now)
        with self._sessions() as s:
            return int(s.scalar(stmt) or 0)

    def history(self, item_id: str) -> list[ReviewEvent]:
        """Every state change of the item, oldest first."""
        with self._sessions() as s:
            if s.get(ReviewItemRow, item_id) is None:
                raise ReviewItemNotFound(f"no review item {item_id!r}")
            rows = s.scalars(select(ReviewEventRow).where(ReviewEventRow.item_id == item_id)
                             .order_by(ReviewEventRow.id)).all()
            return [event_from_row(r) for r in rows]

    @staticmethod
    def _joined() -> Select:  # type: ignore[type-arg]
        return (select(ReviewItemRow, FindingRow, AlarmRow.id)
                .join(FindingRow, FindingRow.id == ReviewItemRow.finding_id)
                .outerjoin(AlarmRow, AlarmRow.finding_id == ReviewItemRow.finding_id))

    @staticmethod
    def _where(stmt: Select, f: QueueFilter, now: datetime) -> Select:  # type: ignore[type-arg]
        if f.statuses is not None:
            stmt = stmt.where(or_(*[_status_clause(st, now) for st in f.statuses]))
        if f.severities is not None:
            stmt = stmt.where(FindingRow.severity.in_([sv.value for sv in f.severities]))
        if f.min_severity is not None:
            stmt = stmt.where(FindingRow.severity_rank >= f.min_severity.rank)
        for column, value in ((FindingRow.port_id, f.port_id), (FindingRow.lane_id, f.lane_id),
                              (FindingRow.case_id, f.case_id),
                              (FindingRow.modality, f.modality and f.modality.value),
                              (FindingRow.type, f.finding_type and f.finding_type.value)):
            if value is not None:
                stmt = stmt.where(column == value)
        if f.created_after is not None:
            stmt = stmt.where(ReviewItemRow.created_at >= f.created_after)
        if f.created_before is not None:
            stmt = stmt.where(ReviewItemRow.created_at < f.created_before)
        return stmt

    # -- claim / release --------------------------------------------------------------------

    def claim(self, item_id: str, reviewer: str, lease_s: float | None = None) -> ReviewEntry:
        """Give ``reviewer`` the item for ``lease_s`` seconds (default ``default_lease_s``).

        Claiming an item you already hold renews the lease. Raises :class:`ReviewConflict`
        when someone else holds a live lease or the item is decided.
        """
        reviewer = _check_actor(reviewer)
        lease = self._lease(lease_s)
        return self._retry(partial(self._claim_once, item_id, reviewer, lease), "claim")

    def claim_next(self, reviewer: str, lease_s: float | None = None,
                   filter: QueueFilter | None = None) -> ReviewEntry | None:
        """Claim the highest-priority claimable item matching ``filter``; ``None`` if none."""
        reviewer = _check_actor(reviewer)
        lease = self._lease(lease_s)
        base = QueueFilter() if filter is None else filter
        f = replace(base, statuses=frozenset({ReviewStatus.QUEUED}))
        for _ in range(5):  # candidates can be taken by others between the SELECT and UPDATE
            now = utcnow()
            stmt = self._where(
                select(ReviewItemRow.id).join(FindingRow,
                                              FindingRow.id == ReviewItemRow.finding_id),
                f, now).where(~_first_confirmed_by(reviewer)).order_by(
                    *_ORDERS["priority"]).limit(10)
            with self._sessions() as s:
                candidates = s.scalars(stmt).all()
            if not candidates:
                return None
            for item_id in candidates:
                try:
                    return self._retry(partial(self._claim_once, item_id, reviewer, lease,
                                               only_unheld=True), "claim next")
                except ReviewConflict:
                    continue
        return None

    def _lease(self, lease_s: float | None) -> timedelta:
        lease = self.default_lease_s if lease_s is None else float(lease_s)
        if not 0 < lease <= self.max_lease_s:
            raise ValueError(f"lease_s must be > 0 and <= {self.max_lease_s:g}")
        return timedelta(seconds=lease)

    def _claim_once(self, item_id: str, reviewer: str, lease: timedelta,
                    only_unheld: bool = False) -> ReviewEntry:
        with self._sessions.begin() as s:
            row = self._item(s, item_id)
            now = utcnow()
            live = is_lease_live(row, now)
            if row.status in {st.value for st in TERMINAL}:
                raise ReviewConflict(f"item {item_id} is already {row.status}")
            if _first_confirmer(s, item_id) == reviewer:
                raise ReviewConflict(f"item {item_id} awaits a second reviewer's confirmation "
                                     f"(two-person rule); {reviewer} confirmed it already")
            renew = live and row.claimed_by == reviewer
            if live and not renew:
                raise ReviewConflict(f"item {item_id} is claimed by {row.claimed_by} until "
                                     f"{row.lease_expires_at:%Y-%m-%dT%H:%M:%SZ}")
            if renew and only_unheld:
                raise ReviewConflict(f"item {item_id} is already yours")
            detail: dict[str, object] = {"lease_s": lease.total_seconds()}
            if row.status == ReviewStatus.CLAIMED.value and not live:
                detail["took_over_from"] = row.claimed_by
            self._cas(s, row, status=ReviewStatus.CLAIMED.value, claimed_by=reviewer,
                      claimed_at=row.claimed_at if renew else now,
                      lease_expires_at=now + lease, updated_at=now)
            s.add(ReviewEventRow(item_id=item_id, at=now, actor=reviewer,
                                 action="renewed" if renew else "claimed", detail=detail))
            return self._entry(s, item_id, now)

    def release(self, item_id: str, reviewer: str) -> ReviewEntry:
        """Give a claimed item back to the queue before its lease ends."""
        reviewer = _check_actor(reviewer)

        def once() -> ReviewEntry:
            with self._sessions.begin() as s:
                row = self._item(s, item_id)
                now = utcnow()
                if row.status != ReviewStatus.CLAIMED.value or row.claimed_by != reviewer:
                    if row.status == ReviewStatus.QUEUED.value and row.claimed_by == reviewer:
                        return self._entry(s, item_id, now)  # a retried release
                    raise ReviewConflict(f"item {item_id} is not claimed by {reviewer}")
                self._cas(s, row, status=ReviewStatus.QUEUED.value, lease_expires_at=None,
                          updated_at=now)
                s.add(ReviewEventRow(item_id=item_id, at=now, actor=reviewer,
                                     action="released", detail={}))
                return self._entry(s, item_id, now)

        return self._retry(once, "release")

    # -- decide -----------------------------------------------------------------------------

    def decide(self, item_id: str, reviewer: str, decision: ReviewDecision,
               reason_code: str | None = None, notes: str | None = None) -> ReviewEntry:
        """Record ``reviewer``'s decision on an item they hold.

        The reviewer must be the one who claimed it; a lease that expired without anyone
        else taking the item over still counts. Repeating the identical decision (a retry)
        returns the stored result; any other decision on a decided item is a conflict.
        """
        reviewer = _check_actor(reviewer)
        decision = ReviewDecision(decision)
        if reason_code is not None and not 1 <= len(reason_code) <= 64:
            raise ValueError("reason_code must be 1-64 characters")
        if notes is not None and len(notes) > 4000:
            raise ValueError("notes must be at most 4000 characters")
        return self._retry(partial(self._decide_once, item_id, reviewer, decision, reason_code,
                                   notes), "decide")

    def _decide_once(self, item_id: str, reviewer: str, decision: ReviewDecision,
                     reason_code: str | None, notes: str | None) -> ReviewEntry:
        with self._sessions.begin() as s:
            row = self._item(s, item_id)
            now = utcnow()
            if row.status in {st.value for st in TERMINAL}:
                if (row.decided_by == reviewer and row.decision == decision.value
                        and row.reason_code == reason_code and row.notes == notes):
                    return self._entry(s, item_id, now)
                raise ReviewConflict(f"item {item_id} was already decided ({row.status}) by "
                                     f"{row.decided_by}")
            first = _first_confirmer(s, item_id)
            if (first == reviewer and decision is ReviewDecision.CONFIRM
                    and row.status == ReviewStatus.QUEUED.value):
                return self._entry(s, item_id, now)  # a retried first confirmation
            if row.status != ReviewStatus.CLAIMED.value or row.claimed_by != reviewer:
                raise ReviewConflict(f"item {item_id} must be claimed by {reviewer} first"
                                     + (f" (held by {row.claimed_by})"
                                        if is_lease_live(row, now) else ""))
            finding = s.get_one(FindingRow, row.finding_id)
            if first == reviewer:
                raise ReviewConflict(f"item {item_id} needs a second reviewer (two-person rule)")
            if (decision is ReviewDecision.CONFIRM and first is None
                    and Severity(finding.severity) in self.two_person_severities):
                return self._first_confirmation(s, row, finding, reviewer, reason_code, notes,
                                                now)
            status = DECIDED[decision]
            self._cas(s, row, status=status.value, decision=decision.value, decided_by=reviewer,
                      decided_at=now, reason_code=reason_code, notes=notes,
                      lease_expires_at=None, updated_at=now)
            s.add(ReviewEventRow(item_id=item_id, at=now, actor=reviewer, action="decided",
                                 detail={"decision": decision.value,
                                         "reason_code": reason_code}))
            payload: dict[str, object] = {
                "review_item_id": item_id, "finding_id": row.finding_id,
                "decision": decision.value, "status": status.value, "reviewer": reviewer,
                "reason_code": reason_code, "notes": notes, "decided_at": now.isoformat(),
            }
            if first is not None:
                payload["first_confirmed_by"] = first
            self._ledger.append(s, EvidenceEvent.REVIEW_DECISION, finding.case_id, payload)
            return self._entry(s, item_id, now)

    def _first_confirmation(self, s: Session, row: ReviewItemRow, finding: FindingRow,
                            reviewer: str, reason_code: str | None, notes: str | None,
                            now: datetime) -> ReviewEntry:
        """Two-person rule: record the first confirmation and put the item back in the queue."""
        self._cas(s, row, status=ReviewStatus.QUEUED.value, lease_expires_at=None,
                  updated_at=now)
        s.add(ReviewEventRow(item_id=row.id, at=now, actor=reviewer, action=FIRST_CONFIRMED,
                             detail={"decision": ReviewDecision.CONFIRM.value,
                                     "reason_code": reason_code}))
        self._ledger.append(s, EvidenceEvent.REVIEW_DECISION, finding.case_id, {
            "review_item_id": row.id, "finding_id": row.finding_id,
            "decision": ReviewDecision.CONFIRM.value,
            "status": "awaiting_second_confirmation", "reviewer": reviewer,
            "reason_code": reason_code, "notes": notes, "decided_at": now.isoformat(),
        })
        return self._entry(s, row.id, now)

    def first_confirmations(self, item_ids: list[str]) -> dict[str, str]:
        """``{item_id: first confirmer}`` for the given items that are still undecided and
        wait for a second confirmation (two-person rule)."""
        if not item_ids:
            return {}
        stmt = (select(ReviewEventRow.item_id, ReviewEventRow.actor)
                .join(ReviewItemRow, ReviewItemRow.id == ReviewEventRow.item_id)
                .where(ReviewEventRow.item_id.in_(item_ids),
                       ReviewEventRow.action == FIRST_CONFIRMED,
                       ReviewItemRow.status.not_in([st.value for st in TERMINAL]))
                .order_by(ReviewEventRow.id))
        with self._sessions() as s:
            return {item_id: actor for item_id, actor in s.execute(stmt).all()}

    # -- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _item(s: Session, item_id: str) -> ReviewItemRow:
        row = s.get(ReviewItemRow, item_id)
        if row is None:
            raise ReviewItemNotFound(f"no review item {item_id!r}")
        return row

    @staticmethod
    def _cas(s: Session, row: ReviewItemRow, **values: object) -> None:
        """Apply ``values`` only if nobody changed the row since we read it."""
        res = s.execute(update(ReviewItemRow)
                        .where(ReviewItemRow.id == row.id, ReviewItemRow.version == row.version)
                        .values(version=row.version + 1, **values)
                        .execution_options(synchronize_session=False))
        if res.rowcount != 1:  # type: ignore[attr-defined]
            raise ReviewConflict(f"item {row.id} was changed concurrently; reload and retry")
        s.expire(row)

    def _entry(self, s: Session, item_id: str, now: datetime) -> ReviewEntry:
        i, f, a = s.execute(self._joined().where(ReviewItemRow.id == item_id)).one()
        return entry_from_rows(i, f, now, a)


def _first_confirmer(s: Session, item_id: str) -> str | None:
    return s.scalar(select(ReviewEventRow.actor)
                    .where(ReviewEventRow.item_id == item_id,
                           ReviewEventRow.action == FIRST_CONFIRMED)
                    .order_by(ReviewEventRow.id.desc()).limit(1))


def _first_confirmed_by(reviewer: str):  # type: ignore[no-untyped-def]
    """SQL: the item (of the enclosing query) was first-confirmed by ``reviewer``."""
    return exists().where(ReviewEventRow.item_id == ReviewItemRow.id,
                          ReviewEventRow.action == FIRST_CONFIRMED,
                          ReviewEventRow.actor == reviewer)


def _status_clause(status: ReviewStatus, now: datetime):  # type: ignore[no-untyped-def]
    claimed = ReviewItemRow.status == ReviewStatus.CLAIMED.value
    if status is ReviewStatus.QUEUED:
        return or_(ReviewItemRow.status == ReviewStatus.QUEUED.value,
                   and_(claimed, ReviewItemRow.lease_expires_at <= now))
    if status is ReviewStatus.CLAIMED:
        return and_(claimed, ReviewItemRow.lease_expires_at > now)
    return ReviewItemRow.status == status.value


_ORDERS = {
    "priority": (ReviewItemRow.severity_rank.desc(), ReviewItemRow.created_at,
                 ReviewItemRow.id),
    "oldest": (ReviewItemRow.created_at, ReviewItemRow.id),
    "newest": (ReviewItemRow.created_at.desc(), ReviewItemRow.id.desc()),
}


def _summary(finding: Finding) -> str:
    where = finding.port_id + (f"/{finding.lane_id}" if finding.lane_id else "")
    text = f"{finding.severity.value} {finding.type.value} at {where}: {finding.explanation}"
    return text if len(text) <= 1000 else text[:997] + "..."
