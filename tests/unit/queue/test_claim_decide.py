"""Leases and decisions: exclusive claims, expiry, takeover, decisions and their ledger entries."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import pytest
from sqlalchemy.orm import Session, sessionmaker

from kouan.domain import EvidenceEvent, ReviewDecision, ReviewStatus, Severity
from kouan.queue import ReviewConflict, ReviewItemNotFound, ReviewQueue
from tests.fixtures.alarm_path import ledger_rows, make_finding


def _queued(queue: ReviewQueue, n: int = 1, **kw: object) -> list[str]:
    return [queue.submit_finding(make_finding(**kw))[0].id for _ in range(n)]


def test_claim_is_exclusive_and_renewable(review_queue: ReviewQueue) -> None:
    [item_id] = _queued(review_queue)
    e = review_queue.claim(item_id, "ana", lease_s=60)
    assert e.item.status is ReviewStatus.CLAIMED and e.item.claimed_by == "ana"
    assert e.item.lease_expires_at is not None
    with pytest.raises(ReviewConflict, match="claimed by ana"):
        review_queue.claim(item_id, "bo")
    renewed = review_queue.claim(item_id, "ana", lease_s=120)
    assert renewed.item.lease_expires_at > e.item.lease_expires_at  # type: ignore[operator]
    assert renewed.version == e.version + 1
    assert [ev.action for ev in review_queue.history(item_id)] == ["queued", "claimed", "renewed"]


def test_expired_lease_makes_item_claimable_again(review_queue: ReviewQueue) -> None:
    [item_id] = _queued(review_queue)
    review_queue.claim(item_id, "ana", lease_s=0.2)
    time.sleep(0.3)
    listed = review_queue.get(item_id)
    assert listed.item.status is ReviewStatus.QUEUED and listed.item.claimed_by is None
    taken = review_queue.claim(item_id, "bo", lease_s=60)
    assert taken.item.claimed_by == "bo"
    assert review_queue.history(item_id)[-1].detail["took_over_from"] == "ana"
    with pytest.raises(ReviewConflict, match="held by bo"):
        review_queue.decide(item_id, "ana", ReviewDecision.CONFIRM)


def test_release_puts_item_back(review_queue: ReviewQueue) -> None:
    [item_id] = _queued(review_queue)
    review_queue.claim(item_id, "ana")
    with pytest.raises(ReviewConflict):
        review_queue.release(item_id, "bo")
    e = review_queue.release(item_id, "ana")
    assert e.item.status is ReviewStatus.QUEUED and e.item.claimed_by is None
    assert review_queue.claim(item_id, "bo").item.claimed_by == "bo"


@pytest.mark.parametrize(("decision", "status"), [
    (ReviewDecision.CONFIRM, ReviewStatus.CONFIRMED),
    (ReviewDecision.DISMISS, ReviewStatus.DISMISSED),
    (ReviewDecision.ESCALATE, ReviewStatus.ESCALATED),
])
def test_decide_records_who_what_when_and_ledger_entry(
        review_queue: ReviewQueue, db_sessions: sessionmaker[Session],
        decision: ReviewDecision, status: ReviewStatus) -> None:
    f = make_finding()
    item, _ = review_queue.submit_finding(f)
    review_queue.claim(item.id, "ana")
    e = review_queue.decide(item.id, "ana", decision, reason_code="R-12", notes="checked twice")
    assert e.item.status is status and e.decision is decision
    assert (e.item.decided_by, e.item.reason_code, e.item.notes) == ("ana", "R-12",
                                                                    "checked twice")
    assert e.item.decided_at is not None and e.item.lease_expires_at is None
    [row] = ledger_rows(db_sessions, EvidenceEvent.REVIEW_DECISION.value)
    payload = json.loads(row.payload)
    assert row.case_id == f.case_id
    assert payload["decision"] == decision.value and payload["reviewer"] == "ana"
    assert payload["review_item_id"] == item.id and payload["reason_code"] == "R-12"
    assert [ev.action for ev in review_queue.history(item.id)] == ["queued", "claimed", "decided"]
    with pytest.raises(ReviewConflict, match="already"):
        review_queue.claim(item.id, "bo")


def test_decide_needs_the_claim_and_is_idempotent_for_retries(
        review_queue: ReviewQueue, db_sessions: sessionmaker[Session]) -> None:
    [item_id] = _queued(review_queue)
    with pytest.raises(ReviewConflict, match="must be claimed by ana"):
        review_queue.decide(item_id, "ana", ReviewDecision.CONFIRM)
    review_queue.claim(item_id, "ana")
    first = review_queue.decide(item_id, "ana", ReviewDecision.DISMISS, reason_code="benign")
    again = review_queue.decide(item_id, "ana", ReviewDecision.DISMISS, reason_code="benign")
    assert again.version == first.version
    assert len(ledger_rows(db_sessions, EvidenceEvent.REVIEW_DECISION.value)) == 1
    with pytest.raises(ReviewConflict, match="already decided"):
        review_queue.decide(item_id, "ana", ReviewDecision.CONFIRM)


def test_decide_after_own_lease_expired_is_allowed_when_nobody_took_over(
        review_queue: ReviewQueue) -> None:
    [item_id] = _queued(review_queue)
    review_queue.claim(item_id, "ana", lease_s=0.1)
    time.sleep(0.2)
    assert review_queue.decide(item_id, "ana", ReviewDecision.CONFIRM).item.status \
        is ReviewStatus.CONFIRMED


def test_claim_next_takes_most_severe_then_oldest(review_queue: ReviewQueue) -> None:
    low = _queued(review_queue, severity=Severity.LOW)[0]
    crit_old, crit_new = _queued(review_queue, 2, severity=Severity.CRITICAL)
    other_lane = _queued(review_queue, severity=Severity.CRITICAL, lane_id="lane-09")[0]
    order = [review_queue.claim_next("ana") for _ in range(4)]
    assert [e.item.id for e in order if e] == [crit_old, crit_new, other_lane, low]
    assert review_queue.claim_next("ana") is None


def test_claim_next_honours_filter(review_queue: ReviewQueue) -> None:
    from kouan.queue import QueueFilter

    _queued(review_queue, severity=Severity.CRITICAL)
    mine = _queued(review_queue, severity=Severity.LOW, lane_id="lane-09")[0]
    e = review_queue.claim_next("ana", filter=QueueFilter(lane_id="lane-09"))
    assert e is not None and e.item.id == mine
    assert review_queue.claim_next("ana", filter=QueueFilter(lane_id="lane-09")) is None


def test_racing_reviewers_never_share_an_item(review_queue: ReviewQueue) -> None:
    items = set(_queued(review_queue, 12))
    got: dict[str, list[str]] = {}
    start = threading.Barrier(4)

    def reviewer(name: str) -> None:
        start.wait()
        mine = got.setdefault(name, [])
        while (e := review_queue.claim_next(name, lease_s=60)) is not None:
            mine.append(e.item.id)

    threads = [threading.Thread(target=reviewer, args=(f"r{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    claimed = Counter(i for ids in got.values() for i in ids)
    assert set(claimed) == items and max(claimed.values()) == 1
    for item_id in items:
        holder = review_queue.get(item_id).item.claimed_by
        assert holder is not None and item_id in got[holder]


def test_errors_for_unknown_items_and_bad_arguments(review_queue: ReviewQueue) -> None:
    [item_id] = _queued(review_queue)
    with pytest.raises(ReviewItemNotFound):
        review_queue.claim("rev-missing", "ana")
    with pytest.raises(ReviewItemNotFound):
        review_queue.get("rev-missing")
    with pytest.raises(ValueError, match="lease_s"):
        review_queue.claim(item_id, "ana", lease_s=0)
    with pytest.raises(ValueError, match="reviewer"):
        review_queue.claim(item_id, "  ")
    review_queue.claim(item_id, "ana")
    with pytest.raises(ValueError, match="notes"):
        review_queue.decide(item_id, "ana", ReviewDecision.CONFIRM, notes="x" * 4001)
    with pytest.raises(ValueError):
        review_queue.decide(item_id, "ana", "approve")  # type: ignore[arg-type]
