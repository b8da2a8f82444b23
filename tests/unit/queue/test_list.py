"""Listing and counting with filters (status, severity, lane, modality, age), order, paging."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest

from kouan.domain import Modality, ReviewDecision, ReviewStatus, Severity, utcnow
from kouan.queue import QueueFilter, ReviewQueue
from tests.fixtures.alarm_path import make_finding


@pytest.fixture
def populated(review_queue: ReviewQueue) -> dict[str, str]:
    ids = {}
    cases: dict[str, dict[str, Any]] = {
        "crit_xray": {"severity": Severity.CRITICAL},
        "low_plate": {"severity": Severity.LOW, "modality": Modality.PLATE_CAMERA,
                      "lane_id": "lane-01"},
        "med_ct": {"severity": Severity.MEDIUM, "modality": Modality.CT_VOLUME},
        "info_none": {"severity": Severity.INFO, "lane_id": None, "modality": None},
    }
    for name, kw in cases.items():
        ids[name] = review_queue.submit_finding(make_finding(**kw))[0].id
    review_queue.claim(ids["med_ct"], "ana")
    review_queue.claim(ids["low_plate"], "bo")
    review_queue.decide(ids["low_plate"], "bo", ReviewDecision.DISMISS)
    return ids


def _ids(entries: list) -> list[str]:  # type: ignore[type-arg]
    return [e.item.id for e in entries]


FILTER_CASES = [
    (QueueFilter(), ["crit_xray", "med_ct", "low_plate", "info_none"]),
    (QueueFilter(statuses=frozenset({ReviewStatus.QUEUED})), ["crit_xray", "info_none"]),
    (QueueFilter(statuses=frozenset({ReviewStatus.CLAIMED})), ["med_ct"]),
    (QueueFilter(statuses=frozenset({ReviewStatus.DISMISSED, ReviewStatus.CLAIMED})),
     ["med_ct", "low_plate"]),
    (QueueFilter(min_severity=Severity.MEDIUM), ["crit_xray", "med_ct"]),
    (QueueFilter(severities=frozenset({Severity.INFO, Severity.LOW})), ["low_plate", "info_none"]),
    (QueueFilter(lane_id="lane-01"), ["low_plate"]),
    (QueueFilter(modality=Modality.CT_VOLUME), ["med_ct"]),
    (QueueFilter(port_id="MANZHOULI"), []),
]


def test_filters(review_queue: ReviewQueue, populated: dict[str, str]) -> None:
    # One populated database for the whole table (a fresh one per case is slow on PostgreSQL).
    for flt, expect in FILTER_CASES:
        assert _ids(review_queue.list_items(flt)) == [populated[n] for n in expect], flt
        assert review_queue.count(flt) == len(expect), flt


def test_age_filters_and_orders(review_queue: ReviewQueue) -> None:
    old = review_queue.submit_finding(make_finding(severity=Severity.LOW))[0].id
    time.sleep(0.05)
    cut = utcnow()
    time.sleep(0.05)
    new = review_queue.submit_finding(make_finding(severity=Severity.HIGH))[0].id
    assert _ids(review_queue.list_items(QueueFilter(created_before=cut))) == [old]
    assert _ids(review_queue.list_items(QueueFilter(created_after=cut))) == [new]
    assert _ids(review_queue.list_items(order="oldest")) == [old, new]
    assert _ids(review_queue.list_items(order="newest")) == [new, old]
    assert _ids(review_queue.list_items(order="priority")) == [new, old]
    assert _ids(review_queue.list_items(limit=1, offset=1, order="oldest")) == [new]
    future = utcnow() + timedelta(hours=1)
    assert review_queue.count(QueueFilter(created_after=future)) == 0


def test_expired_claims_list_as_queued(review_queue: ReviewQueue) -> None:
    item = review_queue.submit_finding(make_finding())[0].id
    review_queue.claim(item, "ana", lease_s=0.1)
    assert review_queue.count(QueueFilter(statuses=frozenset({ReviewStatus.CLAIMED}))) == 1
    time.sleep(0.2)
    assert review_queue.count(QueueFilter(statuses=frozenset({ReviewStatus.CLAIMED}))) == 0
    assert _ids(review_queue.list_items(QueueFilter(statuses=frozenset({ReviewStatus.QUEUED})))) \
        == [item]


def test_bad_paging_is_rejected(review_queue: ReviewQueue) -> None:
    with pytest.raises(ValueError, match="limit"):
        review_queue.list_items(limit=0)
    with pytest.raises(ValueError, match="offset"):
        review_queue.list_items(offset=-1)
