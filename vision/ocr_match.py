"""Confusion-aware comparison of a declared identifier (plate, container code) with a reading.

A weighted edit distance: substituting a character the recogniser commonly confuses with the
declared one (``0``/``O``, ``8``/``B``, ...) costs :data:`CONFUSABLE_COST`; substituting a
character the recogniser itself was unsure about costs its confidence (a guess is weak
evidence either way), at least :data:`UNSURE_FLOOR`; any other substitution, insertion or
deletion costs 1. The outcome is

- ``match``: identical, or every difference is cheap and their sum is at most
  :data:`MATCH_MAX_COST` ("probable match", explained);
- ``mismatch``: a difference the reading is confident about;
- ``unreadable``: no reading, or a reading too weak to decide (mean confidence below
  :data:`READABLE_MIN_CONF`).

Every outcome carries a one-line explanation naming positions and characters (1-based).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from vision.ocr_confusables import confusable

CONFUSABLE_COST = 0.3
UNSURE_FLOOR = 0.15
UNSURE_BELOW = 0.5  # a character read with less confidence than this counts as a guess
MATCH_MAX_COST = 0.61  # two confusable substitutions still match, three do not
READABLE_MIN_CONF = 0.5


class Outcome(Enum):
    MATCH = "match"
    MISMATCH = "mismatch"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class Difference:
    """One edit: ``kind`` is ``substitute``, ``missing`` (declared character not read) or
    ``extra`` (read character not declared); positions are 0-based, ``-1`` when absent."""

    kind: str
    declared_pos: int
    read_pos: int
    declared: str
    read: str
    cost: float
    reason: str

    def describe(self) -> str:
        if self.kind == "substitute":
            return (f"position {self.declared_pos + 1}: declared {self.declared!r}, read "
                    f"{self.read!r} ({self.reason})")
        if self.kind == "missing":
            return f"position {self.declared_pos + 1}: declared {self.declared!r} not read"
        return f"extra {self.read!r} read at position {self.read_pos + 1}"


@dataclass(frozen=True)
class Comparison:
    outcome: Outcome
    distance: float
    explanation: str
    differences: tuple[Difference, ...] = field(default_factory=tuple)


def _sub_cost(d: str, r: str, conf: float) -> tuple[float, str]:
    if d == r:
        return 0.0, "same"
    if conf < UNSURE_BELOW:
        return max(UNSURE_FLOOR, conf), f"read with low confidence {conf:.2f}"
    if confusable(d, r):
        return CONFUSABLE_COST, "commonly confused"
    return 1.0, "different character"


def align(declared: str, read: str, read_conf: Sequence[float] | None = None
          ) -> tuple[float, list[Difference]]:
    """Minimum-cost alignment of ``declared`` and ``read``; returns (cost, differences)."""
    conf = list(read_conf) if read_conf is not None else [1.0] * len(read)
    if len(conf) != len(read):
        raise ValueError(f"read_conf has {len(conf)} values for {len(read)} characters")
    n, m = len(declared), len(read)
    cost = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        cost[i][0] = float(i)
    for j in range(1, m + 1):
        cost[0][j] = float(j)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            sub, _ = _sub_cost(declared[i - 1], read[j - 1], conf[j - 1])
            cost[i][j] = min(cost[i - 1][j - 1] + sub, cost[i - 1][j] + 1.0,
                             cost[i][j - 1] + 1.0)
    diffs: list[Difference] = []
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0:
            sub, why = _sub_cost(declared[i - 1], read[j - 1], conf[j - 1])
            if abs(cost[i][j] - (cost[i - 1][j - 1] + sub)) < 1e-9:
                if sub > 0:
                    diffs.append(Difference("substitute", i - 1, j - 1, declared[i - 1],
                                            read[j - 1], sub, why))
                i, j = i - 1, j - 1
                continue
        if i > 0 and abs(cost[i][j] - (cost[i - 1][j] + 1.0)) < 1e-9:
            diffs.append(Difference("missing", i - 1, -1, declared[i - 1], "", 1.0, "missing"))
            i -= 1
        else:
            diffs.append(Difference("extra", -1, j - 1, "", read[j - 1], 1.0, "extra"))
            j -= 1
    diffs.reverse()
    return cost[n][m], diffs


def compare(declared: str, read: str | None, read_conf: Sequence[float] | None = None,
            what: str = "identifier") -> Comparison:
    """Compare a declared string with a reading (both already normalised: no separators).

    ``read_conf``: per-character confidences of ``read`` in [0, 1] (default: all 1).
    ``what`` names the field in the explanation (``plate``, ``container``).
    """
    if not declared:
        raise ValueError("declared value is empty")
    if read is None or read == "":
        return Comparison(Outcome.UNREADABLE, float(len(declared)),
                          f"{what} {declared}: nothing readable")
    if read_conf is not None and read_conf and (
            sum(read_conf) / len(read_conf) < READABLE_MIN_CONF):
        mean = sum(read_conf) / len(read_conf)
        return Comparison(Outcome.UNREADABLE, float(len(declared)),
                          f"{what} {declared}: read {read} with mean confidence {mean:.2f}, "
                          "too low to decide")
    dist, diffs = align(declared, read, read_conf)
    if not diffs:
        return Comparison(Outcome.MATCH, 0.0, f"{what} {declared}: read exactly")
    detail = "; ".join(d.describe() for d in diffs)
    cheap = all(d.kind == "substitute" and d.cost < 1.0 for d in diffs)
    if cheap and dist <= MATCH_MAX_COST:
        return Comparison(Outcome.MATCH, dist, f"{what} {declared}: probable match, read {read} "
                          f"({detail})", tuple(diffs))
    return Comparison(Outcome.MISMATCH, dist, f"{what} {declared}: read {read} ({detail})",
                      tuple(diffs))
