"""Vote one container code out of several readings (several cameras / frames of one container).

Only codes that pass the check digit can win (after :func:`check_and_correct`); among them the
one the readings agree with most, weighted by confidence. With no valid candidate the
per-position consensus is returned, marked invalid.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from vision.containers.iso6346 import CODE_LEN, check_and_correct, coerce_to_layout, normalise


@dataclass(frozen=True)
class CodeReading:
    """One OCR reading of a code (raw text) with its confidence in [0, 1]."""

    text: str
    confidence: float


@dataclass(frozen=True)
class VotedCode:
    """Result of a vote: the code, whether it passes the check digit, how many readings agree
    (``support`` out of ``total``) and a confidence in [0, 1] (share of the summed weight)."""

    code: str
    valid: bool
    support: int
    total: int
    confidence: float


def _agreement(reading: str, code: str) -> float:
    """Share of ``code``'s positions that ``reading`` (possibly 10 characters) agrees with."""
    n = min(len(reading), len(code))
    return sum(1 for a, b in zip(reading[:n], code[:n], strict=True) if a == b) / CODE_LEN


def vote(readings: Sequence[CodeReading]) -> VotedCode | None:
    """Best code among ``readings``; ``None`` when there is nothing code-shaped to vote on.

    Candidates are the valid (possibly single-character-repaired) readings and the repaired
    per-position consensus; each is supported by every reading in proportion to its
    confidence and to the share of positions it agrees on. So one reading's lucky repair
    (a random change passes the check digit one time in ten) cannot beat a consensus that
    all readings nearly agree with.
    """
    if not readings:
        return None
    for r in readings:
        if not 0.0 <= r.confidence <= 1.0:
            raise ValueError(f"confidence must be in [0, 1], got {r.confidence}")
    raws = [(coerce_to_layout(normalise(r.text)), r.confidence) for r in readings]
    raws = [(t, c) for t, c in raws if len(t) in (CODE_LEN - 1, CODE_LEN)]
    if not raws:
        return None
    checked = [check_and_correct(t) for t, _ in raws]
    candidates = {chk.code for chk in checked if chk.valid}
    full = [(t, c) for t, c in raws if len(t) == CODE_LEN]
    consensus = None
    if full:
        chars = []
        for i in range(CODE_LEN):
            per: dict[str, float] = defaultdict(float)
            for code, conf in full:
                per[code[i]] += conf
            chars.append(max(sorted(per), key=lambda ch: per[ch]))
        consensus = check_and_correct("".join(chars))
        if consensus.valid:
            candidates.add(consensus.code)
    total_w = sum(c for _, c in raws) or 1.0
    if not candidates:
        if consensus is None:
            return None
        agree = sum(c * _agreement(t, consensus.code) for t, c in raws)
        support = sum(1 for t, _ in raws if t == consensus.code)
        return VotedCode(code=consensus.code, valid=False, support=support,
                         total=len(readings), confidence=min(1.0, agree / total_w))
    weight = {code: sum(c * _agreement(t, code) for t, c in raws) for code in candidates}
    exact = {code: sum(1 for chk in checked if chk.code == code) for code in candidates}
    best = max(sorted(candidates), key=lambda code: (weight[code], exact[code]))
    return VotedCode(code=best, valid=True, support=exact[best], total=len(readings),
                     confidence=min(1.0, weight[best] / total_w))
