"""Review-queue read models and the conversions between rows and domain objects."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kouan.db.review import FindingRow, ReviewEventRow, ReviewItemRow
from kouan.domain import (
    Detection,
    Finding,
    FindingType,
    Modality,
    ModelRef,
    ReviewDecision,
    ReviewItem,
    ReviewStatus,
    Severity,
)

DECIDED = {
    ReviewDecision.CONFIRM: ReviewStatus.CONFIRMED,
    ReviewDecision.DISMISS: ReviewStatus.DISMISSED,
    ReviewDecision.ESCALATE: ReviewStatus.ESCALATED,
}
TERMINAL = frozenset(DECIDED.values())

#: History action of the first of two confirmations an item under the two-person rule needs
#: (the item goes back to the queue for a second, different reviewer).
FIRST_CONFIRMED = "first_confirmed"


@dataclass(frozen=True)
class ReviewEntry:
    """A review item together with its finding, as the review UI shows it.

    ``item.status`` is the *effective* status: a claim whose lease has expired reads as
    ``queued`` (anyone may claim it) although the row still names the previous holder until
    someone does. ``version`` changes with every state change of the item.
    """

    item: ReviewItem
    finding: Finding
    decision: ReviewDecision | None
    version: int
    created_at: datetime
    alarm_id: str | None = None


@dataclass(frozen=True)
class ReviewEvent:
    """One line of an item's history (``queued``, ``claimed``, ``renewed``, ``released``,
    ``decided``) with who did it, when, and action-specific details."""

    item_id: str
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]


def finding_content_sha256(finding: Finding, raise_alarm: bool) -> str:
    """sha256 of what a submission means (everything but ``created_at``, which a client that
    rebuilds the object on retry would change, plus whether an alarm was requested)."""
    body = finding.model_dump(mode="json", exclude={"created_at"})
    body["raise_alarm"] = raise_alarm
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False)
                          .encode("utf-8")).hexdigest()


def finding_row(finding: Finding, content_sha256: str) -> FindingRow:
    return FindingRow(
        id=finding.id, case_id=finding.case_id, type=finding.type.value,
        severity=finding.severity.value, severity_rank=finding.severity.rank,
        port_id=finding.port_id, lane_id=finding.lane_id,
        modality=finding.modality.value if finding.modality else None,
        explanation=finding.explanation,
        detections=[d.model_dump(mode="json") for d in finding.detections],
        evidence=list(finding.evidence),
        model_name=finding.model.name if finding.model else None,
        model_version=finding.model.version if finding.model else None,
        created_at=finding.created_at, content_sha256=content_sha256,
    )


def finding_from_row(row: FindingRow) -> Finding:
    model = (ModelRef(name=row.model_name, version=row.model_version)
             if row.model_name and row.model_version else None)
    return Finding(
        id=row.id, case_id=row.case_id, type=FindingType(row.type),
        severity=Severity(row.severity), explanation=row.explanation, port_id=row.port_id,
        lane_id=row.lane_id, modality=Modality(row.modality) if row.modality else None,
        detections=[Detection.model_validate(d) for d in row.detections],
        evidence=list(row.evidence), model=model, created_at=row.created_at,
    )


def is_lease_live(row: ReviewItemRow, now: datetime) -> bool:
    return (row.status == ReviewStatus.CLAIMED.value and row.lease_expires_at is not None
            and row.lease_expires_at > now)


def entry_from_rows(item: ReviewItemRow, finding: FindingRow, now: datetime,
                    alarm_id: str | None = None) -> ReviewEntry:
    expired = item.status == ReviewStatus.CLAIMED.value and not is_lease_live(item, now)
    status = ReviewStatus.QUEUED if expired else ReviewStatus(item.status)
    held = status is not ReviewStatus.QUEUED  # a queued item shows no holder
    return ReviewEntry(
        item=ReviewItem(
            id=item.id, finding_id=item.finding_id, status=status,
            claimed_by=item.claimed_by if held else None,
            lease_expires_at=item.lease_expires_at if status is ReviewStatus.CLAIMED else None,
            decided_by=item.decided_by, decided_at=item.decided_at,
            reason_code=item.reason_code, notes=item.notes,
        ),
        finding=finding_from_row(finding),
        decision=ReviewDecision(item.decision) if item.decision else None,
        version=item.version, created_at=item.created_at, alarm_id=alarm_id,
    )


def event_from_row(row: ReviewEventRow) -> ReviewEvent:
    return ReviewEvent(item_id=row.item_id, at=row.at, actor=row.actor, action=row.action,
                       detail=dict(row.detail))
