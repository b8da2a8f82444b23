"""Declaration matching for one lane passage: plates and container codes read from the images
against the pre-arrival declaration, field by field, with a confusion-aware distance
(:mod:`vision.ocr_match`), then the gate decision.

- Each declared plate takes the closest unused plate reading (tractor first, then trailer).
- Each declared container takes the closest voted code; failing that, a 7-digit serial seen
  without its owner code can still confirm it (the serial plus check digit rarely collide).
- A valid code read but not declared is a mismatch (an undeclared container on the truck).
- Decision: any mismatch -> ``hold``; else any unreadable -> ``inspect``; else ``clear``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kouan.domain.models import Declaration
from pipelines.gate.models import ContainerOut, Decision, FieldMatch, MatchOut, PlateOut
from vision.ocr_match import Comparison, Outcome, compare
from vision.plates.grammar import normalise_plate


@dataclass(frozen=True)
class PlateEvidence:
    text: str
    char_conf: tuple[float, ...]


def _plate_fields(decl: Declaration, plates: Sequence[PlateOut]) -> list[FieldMatch]:
    reads = [PlateEvidence(p.plate, tuple(p.char_confidence) or (p.confidence,) * len(p.plate))
             for p in plates if p.plate]
    used: set[int] = set()
    out = []
    wanted = [("plate", decl.plate)] + (
        [("trailer_plate", decl.trailer_plate)] if decl.trailer_plate else [])
    for field, declared in wanted:
        target = normalise_plate(declared)
        best: tuple[int, Comparison] | None = None
        for i, r in enumerate(reads):
            if i in used:
                continue
            conf = r.char_conf if len(r.char_conf) == len(r.text) else None
            c = compare(target, r.text, conf, what=field.replace("_", " "))
            if best is None or c.distance < best[1].distance:
                best = (i, c)
        if best is None:
            out.append(FieldMatch(field=field, declared=declared, read=None,
                                  outcome=Outcome.UNREADABLE.value,
                                  explanation=f"{field.replace('_', ' ')} {declared}: "
                                  "no plate read in the images"))
            continue
        i, c = best
        if c.outcome is not Outcome.UNREADABLE:
            used.add(i)
        out.append(FieldMatch(field=field, declared=declared, read=reads[i].text,
                              outcome=c.outcome.value, explanation=c.explanation,
                              distance=c.distance))
    return out


def _container_fields(decl: Declaration, containers: Sequence[ContainerOut],
                      serials: Sequence[str]) -> list[FieldMatch]:
    out = []
    used: set[int] = set()
    for k, declared in enumerate(decl.container_numbers):
        field = f"container[{k}]"
        best: tuple[int, Comparison] | None = None
        for i, c in enumerate(containers):
            if i in used:
                continue
            cmp = compare(declared, c.code, [c.confidence] * len(c.code), what="container")
            if best is None or cmp.distance < best[1].distance:
                best = (i, cmp)
        if best is not None and best[1].outcome is not Outcome.UNREADABLE and (
                best[1].outcome is Outcome.MATCH or declared[4:] not in serials):
            i, cmp = best
            used.add(i)
            code = containers[i]
            note = "" if code.check_digit_ok is not None else " (check digit not visible)"
            out.append(FieldMatch(field=field, declared=declared, read=code.code,
                                  outcome=cmp.outcome.value, explanation=cmp.explanation + note,
                                  distance=cmp.distance))
        elif declared[4:] in serials:
            out.append(FieldMatch(
                field=field, declared=declared, read=declared[4:], outcome=Outcome.MATCH.value,
                explanation=f"container {declared}: serial and check digit {declared[4:]} read; "
                "owner code not read", distance=0.0))
        else:
            out.append(FieldMatch(field=field, declared=declared, read=None,
                                  outcome=Outcome.UNREADABLE.value,
                                  explanation=f"container {declared}: no code read in the images"))
    for i, c in enumerate(containers):
        if i not in used and c.check_digit_ok:
            out.append(FieldMatch(field="undeclared_container", declared=None, read=c.code,
                                  outcome=Outcome.MISMATCH.value,
                                  explanation=f"container {c.code} read (check digit valid) but "
                                  "not in the declaration"))
    return out


def match_passage(decl: Declaration, plates: Sequence[PlateOut],
                  containers: Sequence[ContainerOut], serials: Sequence[str] = ()
                  ) -> tuple[MatchOut, Decision, list[str]]:
    """Field-by-field match, the overall outcome, the decision and the reasons behind it."""
    fields = _plate_fields(decl, plates) + _container_fields(decl, containers, serials)
    outcomes = {f.outcome for f in fields}
    if Outcome.MISMATCH.value in outcomes:
        overall, decision = Outcome.MISMATCH, Decision.HOLD
    elif Outcome.UNREADABLE.value in outcomes:
        overall, decision = Outcome.UNREADABLE, Decision.INSPECT
    else:
        overall, decision = Outcome.MATCH, Decision.CLEAR
    reasons = [f.explanation for f in fields if f.outcome != Outcome.MATCH.value]
    if decision is Decision.CLEAR:
        reasons = ["every declared plate and container was read and matches"]
    return MatchOut(outcome=overall.value, fields=fields), decision, reasons
