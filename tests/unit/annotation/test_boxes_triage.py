"""Box edits are checked against the image; reason codes against the decision."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from annotation.boxes import LabelBox, check_boxes, clip_box, covers, iou
from annotation.triage import check_reason, sla
from kouan.domain import ReviewDecision, Severity, utcnow


def _b(x1: float, y1: float, x2: float, y2: float, label: str = "knife") -> LabelBox:
    return LabelBox(label=label, box=(x1, y1, x2, y2))


def test_boxes_inside_the_image_pass() -> None:
    boxes = [_b(0, 0, 100, 50), _b(10.5, 3.25, 11, 4)]
    assert check_boxes(boxes, 100, 50) == boxes


@pytest.mark.parametrize(("box", "reason"), [
    (_b(10, 10, 5, 20), "negative or zero size"),
    (_b(10, 10, 10, 20), "negative or zero size"),
    (_b(-1, 0, 5, 5), "outside the 100 x 50 image"),
    (_b(0, 0, 101, 5), "outside"),
    (_b(0, 0, 5, 51), "outside"),
    (_b(0, 0, float("inf"), 5), "finite"),
    (_b(0, 0, 5, 5, label="<script>"), "label"),
])
def test_bad_boxes_name_the_problem(box: LabelBox, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        check_boxes([_b(1, 1, 2, 2), box], 100, 50)


def test_box_model_rejects_unknown_fields_and_bad_scores() -> None:
    with pytest.raises(ValidationError):
        LabelBox.model_validate({"label": "x", "box": [0, 0, 1, 1], "colour": "red"})
    with pytest.raises(ValidationError):
        LabelBox.model_validate({"label": "x", "box": [0, 0, 1, 1], "score": 1.5})
    with pytest.raises(ValidationError):
        LabelBox.model_validate({"label": "x", "box": [0, 0, 1]})


def test_too_many_boxes() -> None:
    with pytest.raises(ValueError, match="at most 500"):
        check_boxes([_b(0, 0, 1, 1)] * 501, 10, 10)


@pytest.mark.parametrize(("found", "target", "hit"), [
    ((10, 10, 20, 20), (10, 10, 20, 20), True),
    ((12, 12, 22, 22), (10, 10, 20, 20), True),  # IoU 0.47
    ((0, 0, 30, 30), (10, 10, 20, 20), True),  # covers it, 9x its area
    ((0, 0, 100, 100), (10, 10, 20, 20), False),  # the whole bag does not count
    ((30, 30, 40, 40), (10, 10, 20, 20), False),
    ((10, 10, 12, 20), (10, 10, 20, 20), False),  # a sliver (a fifth of it)
])
def test_covers(found: tuple[float, ...], target: tuple[float, ...], hit: bool) -> None:
    assert covers(found, target) is hit


def test_iou_and_clip() -> None:
    assert iou((0, 0, 2, 2), (1, 1, 3, 3)) == pytest.approx(1 / 7)
    assert clip_box((-5, -5, 5, 5), 4, 4) == (0.0, 0.0, 4.0, 4.0)
    assert clip_box((10, 10, 20, 20), 4, 4) is None


@pytest.mark.parametrize(("decision", "code", "notes", "error"), [
    (ReviewDecision.CONFIRM, "threat_confirmed", None, None),
    (ReviewDecision.DISMISS, "benign_object", None, None),
    (ReviewDecision.ESCALATE, "other", "odd shape near the axle", None),
    (ReviewDecision.DISMISS, None, None, "needs a reason_code"),
    (ReviewDecision.DISMISS, "threat_confirmed", None, "not valid for dismiss"),
    (ReviewDecision.CONFIRM, "other", "  ", "needs a note"),
])
def test_reason_codes(decision: ReviewDecision, code: str | None, notes: str | None,
                      error: str | None) -> None:
    if error is None:
        assert check_reason(decision, code, notes) == code
    else:
        with pytest.raises(ValueError, match=error):
            check_reason(decision, code, notes)


def test_sla_marks_overdue_items() -> None:
    from datetime import timedelta

    now = utcnow()
    assert sla(Severity.CRITICAL, now - timedelta(seconds=200), now)["overdue"] is True
    assert sla(Severity.LOW, now - timedelta(seconds=200), now) == {
        "age_s": 200.0, "sla_s": 3600, "overdue": False}
