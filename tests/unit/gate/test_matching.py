"""Passage-level declaration matching and the gate decision."""

from __future__ import annotations

import pytest

from kouan.domain.models import Declaration
from pipelines.gate.matching import match_passage
from pipelines.gate.models import ContainerOut, Decision, PlateOut


def plate(text: str | None, conf: float = 0.99) -> PlateOut:
    n = len(text) if text else 0
    return PlateOut(image="p", plate=text, confidence=conf if text else 0.0,
                    char_confidence=[conf] * n)


def box(code: str, check: bool | None = True, conf: float = 0.95) -> ContainerOut:
    return ContainerOut(code=code, check_digit_ok=check, confidence=conf, support=1)


DECL = Declaration(plate="蒙A12345", trailer_plate="蒙B6789挂",
                   container_numbers=["MSKU4135329"])


@pytest.mark.parametrize(("plates", "containers", "serials", "decision", "outcomes"), [
    # everything read and equal
    ([plate("蒙A12345"), plate("蒙B6789挂")], [box("MSKU4135329")], [], Decision.CLEAR,
     ["match", "match", "match"]),
    # a confusable character still matches (0/O is not evidence of a different truck)
    ([plate("蒙A12345"), plate("蒙B6789挂")], [box("MSKU4I35329", check=False)], [],
     Decision.CLEAR, ["match", "match", "match"]),
    # a different tractor plate: hold
    ([plate("蒙A12845"), plate("蒙B6789挂")], [box("MSKU4135329")], [], Decision.HOLD,
     ["mismatch", "match", "match"]),
    # trailer plate not seen: inspect
    ([plate("蒙A12345")], [box("MSKU4135329")], [], Decision.INSPECT,
     ["match", "unreadable", "match"]),
    # owner code not read but the serial + check digit were: still a match
    ([plate("蒙A12345"), plate("蒙B6789挂")], [], ["4135329"], Decision.CLEAR,
     ["match", "match", "match"]),
    # an extra valid container on the truck that is not declared: hold
    ([plate("蒙A12345"), plate("蒙B6789挂")], [box("MSKU4135329"), box("CSQU3054383")], [],
     Decision.HOLD, ["match", "match", "match", "mismatch"]),
    # nothing read at all
    ([plate(None)], [], [], Decision.INSPECT, ["unreadable", "unreadable", "unreadable"]),
])
def test_match_passage(plates: list[PlateOut], containers: list[ContainerOut],
                       serials: list[str], decision: Decision, outcomes: list[str]) -> None:
    match, got, reasons = match_passage(DECL, plates, containers, serials)
    assert got is decision
    assert [f.outcome for f in match.fields] == outcomes
    assert reasons, "a decision always comes with reasons"
    if decision is Decision.HOLD:
        assert match.outcome == "mismatch"
        assert any("read" in r for r in reasons)


def test_plates_are_assigned_once() -> None:
    # a single reading cannot confirm both the tractor and the trailer plate
    decl = Declaration(plate="蒙A12345", trailer_plate="蒙A12345")
    match, decision, _ = match_passage(decl, [plate("蒙A12345")], [])
    assert [f.outcome for f in match.fields] == ["match", "unreadable"]
    assert decision is Decision.INSPECT
