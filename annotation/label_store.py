"""The reviewed-label store: append-only revisions of the boxes on each image of an item.

Saving needs the revision the editor started from (``base_revision``; 0 when nothing was
saved yet). If someone saved in between, the save is refused with :class:`ReviewConflict`
instead of silently overwriting their work; the unique key on (item, image, revision) settles
two saves racing for the same number.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from annotation.boxes import LabelBox
from kouan.db.review import ReviewItemRow
from kouan.db.review_labels import ReviewLabelRow
from kouan.domain import utcnow
from kouan.queue import ReviewConflict, ReviewItemNotFound


@dataclass(frozen=True)
class LabelSet:
    """The boxes of one image of one item at one revision."""

    item_id: str
    image_sha256: str
    revision: int
    boxes: list[LabelBox]
    author: str
    source: str
    at: datetime
    width: int
    height: int

    def as_json(self) -> dict[str, Any]:
        return {"item_id": self.item_id, "image": self.image_sha256, "revision": self.revision,
                "boxes": [b.model_dump(mode="json") for b in self.boxes],
                "author": self.author, "source": self.source, "at": self.at.isoformat(),
                "width": self.width, "height": self.height}


def _label_set(row: ReviewLabelRow) -> LabelSet:
    return LabelSet(row.item_id, row.image_sha256, row.revision,
                    [LabelBox.model_validate(b) for b in row.boxes], row.author, row.source,
                    row.created_at, row.image_width, row.image_height)


class LabelStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def save(self, item_id: str, image_sha256: str, boxes: Sequence[LabelBox], *, author: str,
             source: str, base_revision: int, width: int, height: int) -> LabelSet:
        """Append revision ``base_revision + 1``; boxes must already be checked."""
        if base_revision < 0:
            raise ValueError("base_revision must be >= 0")
        now = utcnow()
        try:
            with self._sessions.begin() as s:
                if s.get(ReviewItemRow, item_id) is None:
                    raise ReviewItemNotFound(f"no review item {item_id!r}")
                current = self._latest_revision(s, item_id, image_sha256)
                if current != base_revision:
                    raise ReviewConflict(
                        f"labels of {item_id} changed since revision {base_revision} (now "
                        f"{current}); reload them and apply your edit again")
                row = ReviewLabelRow(
                    item_id=item_id, image_sha256=image_sha256, revision=base_revision + 1,
                    author=author, source=source,
                    boxes=[b.model_dump(mode="json") for b in boxes],
                    image_width=width, image_height=height, created_at=now)
                s.add(row)
                s.flush()
                return _label_set(row)
        except IntegrityError:
            raise ReviewConflict(f"labels of {item_id} were saved concurrently; reload them "
                                 "and apply your edit again") from None

    @staticmethod
    def _latest_revision(s: Session, item_id: str, image_sha256: str) -> int:
        return int(s.scalar(select(func.max(ReviewLabelRow.revision)).where(
            ReviewLabelRow.item_id == item_id,
            ReviewLabelRow.image_sha256 == image_sha256)) or 0)

    def current(self, item_id: str) -> dict[str, LabelSet]:
        """The latest revision of each image of ``item_id`` that has saved labels."""
        return self.current_many([item_id]).get(item_id, {})

    def current_many(self, item_ids: Iterable[str]) -> dict[str, dict[str, LabelSet]]:
        """``{item_id: {image_sha256: latest LabelSet}}`` for the given items."""
        ids = list(item_ids)
        if not ids:
            return {}
        latest = (select(ReviewLabelRow.item_id, ReviewLabelRow.image_sha256,
                         func.max(ReviewLabelRow.revision).label("rev"))
                  .where(ReviewLabelRow.item_id.in_(ids))
                  .group_by(ReviewLabelRow.item_id, ReviewLabelRow.image_sha256).subquery())
        stmt = select(ReviewLabelRow).join(
            latest, (ReviewLabelRow.item_id == latest.c.item_id)
            & (ReviewLabelRow.image_sha256 == latest.c.image_sha256)
            & (ReviewLabelRow.revision == latest.c.rev))
        out: dict[str, dict[str, LabelSet]] = {}
        with self._sessions() as s:
            for row in s.scalars(stmt):
                out.setdefault(row.item_id, {})[row.image_sha256] = _label_set(row)
        return out

    def history(self, item_id: str, image_sha256: str) -> list[LabelSet]:
        """Every revision of one image's labels, oldest first."""
        with self._sessions() as s:
            rows = s.scalars(select(ReviewLabelRow).where(
                ReviewLabelRow.item_id == item_id, ReviewLabelRow.image_sha256 == image_sha256)
                .order_by(ReviewLabelRow.revision)).all()
            return [_label_set(r) for r in rows]

    def item_ids_with_labels(self, statuses: Iterable[str]) -> list[str]:
        """Items in one of ``statuses`` (stored status) that have saved labels, oldest first."""
        stmt = (select(ReviewItemRow.id).where(
            ReviewItemRow.status.in_(list(statuses)),
            ReviewItemRow.id.in_(select(ReviewLabelRow.item_id)))
            .order_by(ReviewItemRow.created_at, ReviewItemRow.id))
        with self._sessions() as s:
            return list(s.scalars(stmt).all())
