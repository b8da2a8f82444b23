"""Confusion-aware comparison of declared identifiers with readings."""

from __future__ import annotations

import pytest

from vision.ocr_match import Outcome, align, compare


@pytest.mark.parametrize(("declared", "read", "conf", "outcome", "phrase"), [
    ("蒙A12345", "蒙A12345", None, Outcome.MATCH, "read exactly"),
    # one commonly confused pair: still a (probable) match, and the explanation says where
    ("MSKU4135329", "MSKU4I35329", None, Outcome.MATCH, "position 6: declared '1', read 'I'"),
    ("蒙A1O345", "蒙A10345", None, Outcome.MATCH, "commonly confused"),
    # two confusions still match; three do not
    ("蒙A00345", "蒙AOO345", None, Outcome.MATCH, "probable match"),
    ("蒙A000B5", "蒙AOOO85", None, Outcome.MISMATCH, "position 3"),
    # a different, confidently read character
    ("蒙A12345", "蒙A12346", None, Outcome.MISMATCH, "declared '5', read '6'"),
    ("蒙A12345", "蒙A1234", None, Outcome.MISMATCH, "not read"),
    ("蒙A12345", "蒙A123456", None, Outcome.MISMATCH, "extra '6'"),
    # a character the recogniser was unsure of is weak evidence either way
    ("皖A12345", "新A12345", [0.02, 1, 1, 1, 1, 1, 1], Outcome.MATCH, "low confidence 0.02"),
    # unreadable: nothing, or everything weak
    ("蒙A12345", None, None, Outcome.UNREADABLE, "nothing readable"),
    ("蒙A12345", "蒙A12345", [0.3] * 7, Outcome.UNREADABLE, "too low"),
])
def test_compare(declared: str, read: str | None, conf: list[float] | None, outcome: Outcome,
                 phrase: str) -> None:
    res = compare(declared, read, conf, what="plate")
    assert res.outcome is outcome
    assert phrase in res.explanation
    assert res.explanation.startswith(f"plate {declared}")


def test_align_costs() -> None:
    cost, diffs = align("ABC", "ABC")
    assert cost == 0 and diffs == []
    cost, diffs = align("A0C", "AOC")
    assert cost == pytest.approx(0.3) and diffs[0].kind == "substitute"
    cost, diffs = align("ABCD", "ABD")
    assert cost == 1 and [d.kind for d in diffs] == ["missing"]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        compare("", "A")
    with pytest.raises(ValueError):
        align("AB", "AB", [1.0])
