"""Threat image projection (TIP) trials: when to project, whether the reviewer found the
threat, and the per-reviewer hit/miss statistics supervisors see.

A trial starts when a reviewer newly claims an item and a draw at the configured rate says
so; from then on that reviewer's views of the item's first TIP-capable image show the
projected threat (the item's JSON is unchanged, so nothing gives it away). At the decision
the reviewer's saved boxes are compared with the threat's box (:func:`annotation.boxes.covers`):

* found -> ``hit``: the decision is *not* applied (it was made on a doctored image); the
  threat's box is dropped from the labels and the reviewer sees the real image again;
* not found -> ``miss``: the decision on the real item stands.

A trial left without a decision (release) becomes ``void`` and counts as neither.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from kouan.db.review_labels import TipSettingsRow, TipTrialRow
from kouan.domain import new_id, utcnow

MAX_RATE = 0.5  # more than every second item would stop being a test and become noise


@dataclass(frozen=True)
class Trial:
    id: str
    item_id: str
    reviewer: str
    image_sha256: str
    threat_label: str
    box: tuple[float, float, float, float]
    seed: int
    outcome: str


def _trial(row: TipTrialRow) -> Trial:
    x1, y1, x2, y2 = (float(v) for v in row.box)
    return Trial(row.id, row.item_id, row.reviewer, row.image_sha256, row.threat_label,
                 (x1, y1, x2, y2), row.seed, row.outcome)


class TipTrials:
    """TIP settings and trials in the database. ``rng`` decides each draw (tests seed it)."""

    def __init__(self, sessions: sessionmaker[Session], rng: random.Random | None = None) -> None:
        self._sessions = sessions
        self._rng = rng or random.SystemRandom()

    # -- settings -----------------------------------------------------------------------
    def rate(self) -> float:
        with self._sessions() as s:
            row = s.get(TipSettingsRow, 1)
            return float(row.rate) if row else 0.0

    def settings(self) -> dict[str, Any]:
        with self._sessions() as s:
            row = s.get(TipSettingsRow, 1)
            if row is None:
                return {"rate": 0.0, "updated_by": None, "updated_at": None}
            return {"rate": row.rate, "updated_by": row.updated_by,
                    "updated_at": row.updated_at.isoformat()}

    def set_rate(self, rate: float, by: str) -> dict[str, Any]:
        if not 0.0 <= rate <= MAX_RATE:
            raise ValueError(f"TIP rate must be between 0 and {MAX_RATE}")
        with self._sessions.begin() as s:
            row = s.get(TipSettingsRow, 1)
            if row is None:
                s.add(TipSettingsRow(id=1, rate=rate, updated_by=by, updated_at=utcnow()))
            else:
                row.rate, row.updated_by, row.updated_at = rate, by, utcnow()
        return self.settings()

    # -- trials -------------------------------------------------------------------------
    def draw(self) -> bool:
        """Whether the next claim gets a projected threat."""
        r = self.rate()
        return r > 0 and self._rng.random() < r

    def new_seed(self) -> int:
        return self._rng.randrange(1, 2**31 - 1)

    def start(self, item_id: str, reviewer: str, image_sha256: str, label: str,
              box: tuple[float, float, float, float], seed: int) -> Trial:
        row = TipTrialRow(id=new_id("tip"), item_id=item_id, reviewer=reviewer,
                          image_sha256=image_sha256, threat_label=label,
                          box=[float(v) for v in box], seed=seed, outcome="pending",
                          created_at=utcnow())
        with self._sessions.begin() as s:
            s.add(row)
            s.flush()
            return _trial(row)

    def pending(self, item_id: str, reviewer: str) -> Trial | None:
        with self._sessions() as s:
            row = s.scalar(select(TipTrialRow).where(
                TipTrialRow.item_id == item_id, TipTrialRow.reviewer == reviewer,
                TipTrialRow.outcome == "pending").order_by(TipTrialRow.created_at.desc())
                .limit(1))
            return _trial(row) if row else None

    def resolve(self, trial_id: str, outcome: str, decision: str | None = None) -> bool:
        """Close a pending trial; False if it was already closed (a retried request)."""
        if outcome not in ("hit", "miss", "void"):
            raise ValueError(f"unknown TIP outcome {outcome!r}")
        with self._sessions.begin() as s:
            res = s.execute(update(TipTrialRow)
                            .where(TipTrialRow.id == trial_id, TipTrialRow.outcome == "pending")
                            .values(outcome=outcome, decision=decision, resolved_at=utcnow())
                            .execution_options(synchronize_session=False))
            return bool(res.rowcount)  # type: ignore[attr-defined]

    def stats(self) -> list[dict[str, Any]]:
        """Per reviewer: trials, hits, misses, pending, void and hit rate (hits / decided)."""
        def n(outcome: str) -> Any:
            return func.sum(case((TipTrialRow.outcome == outcome, 1), else_=0))

        stmt = (select(TipTrialRow.reviewer, func.count(TipTrialRow.id), n("hit"), n("miss"),
                       n("pending"), n("void"))
                .group_by(TipTrialRow.reviewer).order_by(TipTrialRow.reviewer))
        out = []
        with self._sessions() as s:
            for reviewer, total, hits, misses, pending, void in s.execute(stmt).all():
                decided = int(hits or 0) + int(misses or 0)
                out.append({"reviewer": reviewer, "trials": int(total), "hits": int(hits or 0),
                            "misses": int(misses or 0), "pending": int(pending or 0),
                            "void": int(void or 0),
                            "hit_rate": round(int(hits or 0) / decided, 4) if decided else None})
        return out
