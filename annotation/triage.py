"""Triage policy: reason codes per decision and review time targets (SLA) per severity."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from datasets.synth.baggage import BAGGAGE_CLASSES
from datasets.synth.cargo import CARGO_CLASSES
from kouan.domain import ReviewDecision, Severity

#: Reason codes a reviewer picks from, per decision ("other" needs a note).
REASON_CODES: Final[dict[ReviewDecision, tuple[str, ...]]] = {
    ReviewDecision.CONFIRM: ("threat_confirmed", "contraband", "undeclared_goods",
                             "identity_mismatch", "other"),
    ReviewDecision.DISMISS: ("benign_object", "image_artifact", "matches_declaration",
                             "duplicate", "other"),
    ReviewDecision.ESCALATE: ("needs_physical_inspection", "image_unclear", "policy_question",
                              "other"),
}

#: Labels offered when a reviewer relabels or draws a box: the training classes of the baggage
#: and cargo detectors, the SIXray classes, and identification targets.
LABEL_CLASSES: Final[tuple[str, ...]] = tuple(dict.fromkeys((
    *BAGGAGE_CLASSES, *CARGO_CLASSES, "wrench", "pliers", "scissors", "plate",
    "container_code", "face", "other")))

#: Seconds from queueing within which an item of each severity should be decided.
SLA_SECONDS: Final[dict[Severity, int]] = {
    Severity.CRITICAL: 120, Severity.HIGH: 300, Severity.MEDIUM: 900, Severity.LOW: 3600,
    Severity.INFO: 4 * 3600,
}


def check_reason(decision: ReviewDecision, reason_code: str | None, notes: str | None) -> str:
    """The reason code if it belongs to ``decision``; ``ValueError`` saying what is allowed."""
    allowed = REASON_CODES[decision]
    if not reason_code:
        raise ValueError(f"a {decision.value} decision needs a reason_code: one of "
                         f"{', '.join(allowed)}")
    if reason_code not in allowed:
        raise ValueError(f"reason_code {reason_code!r} is not valid for {decision.value}; "
                         f"choose one of {', '.join(allowed)}")
    if reason_code == "other" and not (notes and notes.strip()):
        raise ValueError("reason_code 'other' needs a note saying why")
    return reason_code


def sla(severity: Severity, created_at: datetime, now: datetime) -> dict[str, Any]:
    """Age and time target of an item: ``{"age_s", "sla_s", "overdue"}``."""
    age = max(0.0, (now - created_at).total_seconds())
    target = SLA_SECONDS[severity]
    return {"age_s": round(age, 1), "sla_s": target, "overdue": age > target}
