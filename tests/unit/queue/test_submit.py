"""submit_finding: one transaction, idempotent on finding id, same on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from kouan.db.alarms import AlarmRow, OutboxRow
from kouan.db.review import FindingRow, ReviewEventRow, ReviewItemRow
from kouan.domain import Alarm, EvidenceEvent, ReviewStatus, Severity
from kouan.evidence.ledger import Ledger
from kouan.queue import FindingConflict, ReviewQueue
from tests.fixtures.alarm_path import ledger_rows, make_finding


def _count(sessions: sessionmaker[Session], table: Any) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def test_submit_without_alarm_queues_item_and_ledger_entry(
        review_queue: ReviewQueue, db_sessions: sessionmaker[Session]) -> None:
    f = make_finding()
    item, alarm = review_queue.submit_finding(f)
    assert alarm is None
    assert item.finding_id == f.id and item.status is ReviewStatus.QUEUED
    entry = review_queue.get(item.id)
    assert entry.finding == f
    assert (_count(db_sessions, AlarmRow), _count(db_sessions, OutboxRow)) == (0, 0)
    rows = ledger_rows(db_sessions, EvidenceEvent.FINDING.value)
    assert [r.case_id for r in rows] == [f.case_id]
    assert f'"review_item_id":"{item.id}"' in rows[0].payload


def test_submit_with_alarm_writes_alarm_and_outbox_row(
        review_queue: ReviewQueue, db_sessions: sessionmaker[Session]) -> None:
    f = make_finding(severity=Severity.CRITICAL, lane_id="lane.7")
    item, alarm = review_queue.submit_finding(f, raise_alarm=True)
    assert alarm is not None
    assert (alarm.finding_id, alarm.severity, alarm.lane_id) == (f.id, Severity.CRITICAL, "lane.7")
    with db_sessions() as s:
        out = s.scalars(select(OutboxRow)).one()
        arow = s.get_one(AlarmRow, alarm.id)
    assert out.alarm_id == alarm.id and out.published_at is None and out.attempts == 0
    assert out.subject == arow.subject == "kouan.alarms.ERENHOT.lane_7.critical"
    assert Alarm.model_validate_json(out.payload) == alarm
    assert arow.case_id == f.case_id and arow.published_at is None
    assert review_queue.get(item.id).alarm_id == alarm.id


def test_resubmitting_the_same_finding_returns_the_stored_rows(
        review_queue: ReviewQueue, db_sessions: sessionmaker[Session]) -> None:
    f = make_finding()
    first = review_queue.submit_finding(f, raise_alarm=True)
    # A client that rebuilt the object on retry gets a new created_at; still the same finding.
    retry = f.model_copy(update={"created_at": f.created_at + timedelta(seconds=3)})
    again = review_queue.submit_finding(retry, raise_alarm=True)
    assert again == first
    for table in (FindingRow, ReviewItemRow, AlarmRow, OutboxRow):
        assert _count(db_sessions, table) == 1, table
    assert len(ledger_rows(db_sessions, EvidenceEvent.FINDING.value)) == 1


@pytest.mark.parametrize("change", [
    {"explanation": "something else"},
    {"severity": Severity.LOW},
    {"raise_alarm": False},
])
def test_same_id_with_different_content_is_a_conflict(
        review_queue: ReviewQueue, change: dict[str, Any]) -> None:
    f = make_finding()
    review_queue.submit_finding(f, raise_alarm=True)
    fields = dict(change)
    raise_alarm = fields.pop("raise_alarm", True)
    with pytest.raises(FindingConflict, match=f.id):
        review_queue.submit_finding(f.model_copy(update=fields), raise_alarm=raise_alarm)


class _FailingLedger:
    """Wraps the real ledger and fails after writing, as a crash inside the transaction."""

    def __init__(self, inner: Ledger) -> None:
        self.inner = inner

    def append(self, session: Session, event: EvidenceEvent, case_id: str,
               payload: dict[str, Any]) -> Any:
        self.inner.append(session, event, case_id, payload)
        raise RuntimeError("ledger write failed")


def test_submit_is_all_or_nothing(db_sessions: sessionmaker[Session], ledger: Ledger) -> None:
    queue = ReviewQueue(db_sessions, _FailingLedger(ledger))
    with pytest.raises(RuntimeError, match="ledger write failed"):
        queue.submit_finding(make_finding(), raise_alarm=True)
    for table in (FindingRow, ReviewItemRow, ReviewEventRow, AlarmRow, OutboxRow):
        assert _count(db_sessions, table) == 0, table
    assert ledger_rows(db_sessions) == []


def test_concurrent_submissions_of_one_finding_store_it_once(
        review_queue: ReviewQueue, db_sessions: sessionmaker[Session]) -> None:
    f = make_finding()
    results: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def submit() -> None:
        start.wait()
        try:
            results.append(review_queue.submit_finding(f, raise_alarm=True))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len({r[0].id for r in results}) == 1 and len({r[1].id for r in results}) == 1
    for table in (FindingRow, ReviewItemRow, AlarmRow, OutboxRow):
        assert _count(db_sessions, table) == 1, table
    assert len(ledger_rows(db_sessions, EvidenceEvent.FINDING.value)) == 1


def test_alarm_commit_callback_fires_for_submissions_with_an_alarm(
        db_sessions: sessionmaker[Session], ledger: Ledger) -> None:
    calls: list[int] = []
    queue = ReviewQueue(db_sessions, ledger, on_alarm_committed=lambda: calls.append(1))
    f = make_finding()
    queue.submit_finding(make_finding())  # no alarm
    assert calls == []
    queue.submit_finding(f, raise_alarm=True)
    queue.submit_finding(f, raise_alarm=True)  # a retry: the relay may not have heard of it
    assert calls == [1, 1]
