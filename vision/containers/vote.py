"""Vote one container code out of several readings (several cameras / frames of one container).

A valid (check-digit) reading outweighs any number of invalid ones: votes are summed per
distinct valid code. When no reading is valid, a per-position vote over the 11-character
readings is tried and then repaired with :func:`check_and_correct`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from vision.containers.iso6346 import CODE_LEN, check_and_correct


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


def vote(readings: Sequence[CodeReading]) -> VotedCode | None:
    """Best code among ``readings``; ``None`` when there is nothing code-shaped to vote on."""
    if not readings:
        return None
    for r in readings:
        if not 0.0 <= r.confidence <= 1.0:
            raise ValueError(f"confidence must be in [0, 1], got {r.confidence}")
    checked = [(check_and_correct(r.text), r.confidence) for r in readings]
    weight: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    for chk, conf in checked:
        if chk.valid:
            weight[chk.code] += conf
            count[chk.code] += 1
    total_w = sum(c for _, c in checked) or 1.0
    if weight:
        best = max(sorted(weight), key=lambda c: (weight[c], count[c]))
        return VotedCode(code=best, valid=True, support=count[best], total=len(readings),
                         confidence=min(1.0, weight[best] / total_w))
    full = [(chk.code, conf) for chk, conf in checked if len(chk.code) == CODE_LEN]
    if not full:
        return None
    chars = []
    for i in range(CODE_LEN):
        per: dict[str, float] = defaultdict(float)
        for code, conf in full:
            per[code[i]] += conf
        chars.append(max(sorted(per), key=lambda ch: per[ch]))
    repaired = check_and_correct("".join(chars))
    support = sum(1 for code, _ in full if code == repaired.code)
    agree_w = sum(conf for code, conf in full if code == repaired.code)
    return VotedCode(code=repaired.code, valid=repaired.valid, support=support,
                     total=len(readings), confidence=min(1.0, agree_w / total_w))
