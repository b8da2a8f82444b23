"""Score detected events against annotated ones: counting accuracy and false events per minute.

An annotation is ``{"type", "zone", "t", ["direction"]}`` (seconds). A detection matches the
annotation of the same type, rule and direction closest in time within ``tolerance_s``; each
annotation matches at most once (greedy by time difference, which is optimal enough for events
seconds apart). See ``tests/data/video/ANNOTATION.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from vision.video.types import Event


@dataclass(frozen=True)
class Score:
    annotated: int
    detected: int
    matched: int
    false_events: int
    missed: int
    minutes: float

    @property
    def recall(self) -> float:
        return self.matched / self.annotated if self.annotated else 1.0

    @property
    def precision(self) -> float:
        return self.matched / self.detected if self.detected else 1.0

    @property
    def count_error(self) -> int:
        return self.detected - self.annotated

    @property
    def counting_accuracy(self) -> float:
        """``1 - |detected - annotated| / annotated`` (what a people/vehicle counter reports)."""
        if not self.annotated:
            return 1.0 if not self.detected else 0.0
        return max(0.0, 1.0 - abs(self.count_error) / self.annotated)

    @property
    def false_per_minute(self) -> float:
        return self.false_events / self.minutes if self.minutes > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = asdict(self)
        d.update(recall=round(self.recall, 3), precision=round(self.precision, 3),
                 count_error=self.count_error,
                 counting_accuracy=round(self.counting_accuracy, 3),
                 false_per_minute=round(self.false_per_minute, 2))
        return d


def _key(type_: str, zone: str, direction: str | None) -> tuple[str, str, str | None]:
    return (type_, zone, direction)


def score(detected: Sequence[Event], annotated: Sequence[dict[str, Any]], duration_s: float,
          tolerance_s: float = 2.0, types: set[str] | None = None) -> Score:
    """Match ``detected`` to ``annotated`` (optionally only event ``types``)."""
    dets = [e for e in detected if types is None or e.type.value in types]
    gts = [a for a in annotated if types is None or a["type"] in types]
    pairs = []
    for i, e in enumerate(dets):
        k = _key(e.type.value, e.zone, e.direction)
        for j, a in enumerate(gts):
            if _key(a["type"], a["zone"], a.get("direction")) == k:
                dt = abs(e.t_start - float(a["t"]))
                if dt <= tolerance_s:
                    pairs.append((dt, i, j))
    used_d: set[int] = set()
    used_a: set[int] = set()
    for _, i, j in sorted(pairs):
        if i not in used_d and j not in used_a:
            used_d.add(i)
            used_a.add(j)
    m = len(used_d)
    return Score(annotated=len(gts), detected=len(dets), matched=m, false_events=len(dets) - m,
                 missed=len(gts) - m, minutes=duration_s / 60.0)
