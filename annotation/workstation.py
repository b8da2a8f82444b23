"""The review workstation service: what the review API calls.

It composes the review queue (:class:`kouan.queue.ReviewQueue`: leases, decisions, history,
ledger), the evidence store (images), the label store (box corrections) and TIP trials, and
shapes plain JSON-able dicts. Reviewers are named by their token's name.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from annotation.boxes import LabelBox, check_boxes, clip_box, covers
from annotation.label_store import LabelSet, LabelStore
from annotation.lru import ByteLRU
from annotation.media import EvidenceReader, ItemMedia, MediaResolver, image_info
from annotation.scan_decode import ScanImage
from annotation.tip import TipTrials, Trial
from annotation.tip_render import TipNotApplicable, make_threat, project, tip_applicable
from annotation.triage import REASON_CODES, check_reason, sla
from kouan.domain import ReviewDecision, ReviewStatus, utcnow
from kouan.queue import QueueFilter, ReviewConflict, ReviewEntry, ReviewQueue
from kouan.queue.service import Order

log = logging.getLogger(__name__)


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


def model_boxes(entry: ReviewEntry, img: ScanImage) -> list[LabelBox]:
    """The finding's boxed detections as the starting labels of its first image."""
    out = []
    for d in entry.finding.detections:
        box = clip_box(d.box, img.width, img.height) if d.box else None
        if box is not None:
            out.append(LabelBox(label=d.label, box=box, score=d.score, origin="model"))
    return out


class ReviewWorkstation:
    def __init__(self, queue: ReviewQueue, evidence: EvidenceReader,
                 sessions: sessionmaker[Session], *, tip_rng: random.Random | None = None,
                 media: MediaResolver | None = None) -> None:
        self.queue = queue
        self.media = media or MediaResolver(evidence)
        self.labels = LabelStore(sessions)
        self.tip = TipTrials(sessions, tip_rng)
        self._tip_images: ByteLRU[ScanImage] = ByteLRU(
            256 * 2**20, lambda im: sum(int(a.nbytes) for a in (im.low, im.high, im.gray16,
                                                                 im.rgb) if a is not None))

    # -- queue ------------------------------------------------------------------------------
    def page(self, filt: QueueFilter, *, order: Order = "priority", limit: int = 50,
             offset: int = 0) -> dict[str, Any]:
        """One page of the queue plus the total that matches ``filt``."""
        now = utcnow()
        entries = self.queue.list_items(filt, order=order, limit=limit, offset=offset)
        firsts = self.queue.first_confirmations([e.item.id for e in entries])
        return {"total": self.queue.count(filt), "limit": limit, "offset": offset,
                "order": order, "items": [self.summary(e, now, firsts) for e in entries]}

    @staticmethod
    def summary(e: ReviewEntry, now: datetime, firsts: dict[str, str]) -> dict[str, Any]:
        f, it = e.finding, e.item
        return {
            "id": it.id, "finding_id": f.id, "case_id": f.case_id, "status": it.status.value,
            "severity": f.severity.value, "type": f.type.value, "port_id": f.port_id,
            "lane_id": f.lane_id, "modality": f.modality.value if f.modality else None,
            "explanation": f.explanation if len(f.explanation) <= 200
            else f.explanation[:197] + "...",
            "labels": sorted({d.label for d in f.detections}),
            "max_score": max((d.score for d in f.detections), default=None),
            "created_at": e.created_at.isoformat(), "claimed_by": it.claimed_by,
            "lease_expires_at": _iso(it.lease_expires_at),
            "decision": e.decision.value if e.decision else None, "decided_by": it.decided_by,
            "reason_code": it.reason_code, "awaiting_second_after": firsts.get(it.id),
            "sla": sla(f.severity, e.created_at, now), "version": e.version,
        }

    def detail(self, item_id: str, reviewer: str) -> dict[str, Any]:
        """Everything the viewer needs for one item (no pixels: those come from image_*)."""
        entry = self.queue.get(item_id)
        media = self.media.media(entry.finding)
        now = utcnow()
        saved = self.labels.current(item_id)
        labels: dict[str, Any] = {}
        for i, img in enumerate(media.images):
            cur = saved.get(img.key)
            if cur is not None:
                labels[img.key] = cur.as_json()
            else:  # revision 0: what the model found (first image only: detections' frame)
                boxes = model_boxes(entry, img) if i == 0 else []
                labels[img.key] = {"item_id": item_id, "image": img.key, "revision": 0,
                                   "boxes": [b.model_dump(mode="json") for b in boxes],
                                   "author": None, "source": "model", "at": None,
                                   "width": img.width, "height": img.height}
        firsts = self.queue.first_confirmations([item_id])
        held = (entry.item.status is ReviewStatus.CLAIMED and entry.item.claimed_by == reviewer)
        return {
            "item": entry.item.model_dump(mode="json"),
            "finding": entry.finding.model_dump(mode="json"),
            "summary": self.summary(entry, now, firsts),
            "decision": entry.decision.value if entry.decision else None,
            "version": entry.version, "alarm_id": entry.alarm_id,
            "held_by_me": held, "me": reviewer,
            "awaiting_second_after": firsts.get(item_id),
            "images": [image_info(img) for img in media.images],
            "labels": labels,
            "declarations": [{"sha256": d.sha256, "data": d.data, "hs_chapters": d.hs_chapters}
                             for d in media.declarations],
            "attachments": media.attachments,
            "texts": [{"label": d.label, "text": d.text, "score": d.score}
                      for d in entry.finding.detections if d.text],
            "history": [{"at": ev.at.isoformat(), "actor": ev.actor, "action": ev.action,
                         "detail": ev.detail} for ev in self.queue.history(item_id)],
            "reason_codes": {d.value: list(codes) for d, codes in REASON_CODES.items()},
        }

    # -- leases -----------------------------------------------------------------------------
    def claim(self, item_id: str, reviewer: str, lease_s: float | None = None) -> dict[str, Any]:
        before = self.queue.get(item_id)
        fresh = not (before.item.status is ReviewStatus.CLAIMED
                     and before.item.claimed_by == reviewer)
        entry = self.queue.claim(item_id, reviewer, lease_s)
        if fresh:
            self._maybe_project(entry, reviewer)
        return self.detail(item_id, reviewer)

    def claim_next(self, reviewer: str, filt: QueueFilter | None = None,
                   lease_s: float | None = None) -> dict[str, Any] | None:
        entry = self.queue.claim_next(reviewer, lease_s, filt)
        if entry is None:
            return None
        self._maybe_project(entry, reviewer)
        return self.detail(entry.item.id, reviewer)

    def release(self, item_id: str, reviewer: str) -> dict[str, Any]:
        self.queue.release(item_id, reviewer)
        trial = self.tip.pending(item_id, reviewer)
        if trial is not None:
            self.tip.resolve(trial.id, "void")
        return self.detail(item_id, reviewer)

    # -- decisions --------------------------------------------------------------------------
    def decide(self, item_id: str, reviewer: str, decision: ReviewDecision,
               reason_code: str | None, notes: str | None) -> dict[str, Any]:
        """Apply a decision (unless it uncovered a TIP threat: then only the TIP hit counts).

        Returns ``{"applied", "tip", "item": detail}``; ``tip`` is None when no projected
        threat was in the reviewer's view, else ``{"outcome": "hit"|"miss", "label"}``.
        """
        decision = ReviewDecision(decision)
        check_reason(decision, reason_code, notes)
        trial = self.tip.pending(item_id, reviewer)
        tip: dict[str, Any] | None = None
        if trial is not None and self._holds(item_id, reviewer):
            cur = self.labels.current(item_id).get(trial.image_sha256)
            found = [b for b in (cur.boxes if cur else [])
                     if b.origin != "model" and covers(b.box, trial.box)]
            if found and cur is not None:
                self.tip.resolve(trial.id, "hit", decision.value)
                self._drop_tip_boxes(cur, trial, reviewer)
                return {"applied": False,
                        "tip": {"outcome": "hit", "label": trial.threat_label},
                        "item": self.detail(item_id, reviewer)}
            tip = {"outcome": "miss", "label": trial.threat_label}
        self.queue.decide(item_id, reviewer, decision, reason_code, notes)
        if trial is not None and tip is not None:
            self.tip.resolve(trial.id, "miss", decision.value)
        return {"applied": True, "tip": tip, "item": self.detail(item_id, reviewer)}

    def _holds(self, item_id: str, reviewer: str) -> bool:
        it = self.queue.get(item_id).item
        return it.status is ReviewStatus.CLAIMED and it.claimed_by == reviewer

    def _drop_tip_boxes(self, cur: LabelSet, trial: Trial, reviewer: str) -> None:
        """The reviewer's box on the projected threat marks nothing real: remove it."""
        keep = [b for b in cur.boxes if b.origin == "model" or not covers(b.box, trial.box)]
        try:
            self.labels.save(cur.item_id, cur.image_sha256, keep, author=reviewer,
                             source="tip_cleanup", base_revision=cur.revision,
                             width=cur.width, height=cur.height)
        except ReviewConflict:
            log.warning("labels of %s changed while removing a TIP box", cur.item_id)

    # -- labels -----------------------------------------------------------------------------
    def save_labels(self, item_id: str, reviewer: str, image_key: str,
                    boxes: list[LabelBox], base_revision: int) -> dict[str, Any]:
        """Save the reviewer's boxes for one image of an item they hold."""
        entry = self.queue.get(item_id)
        if not (entry.item.status is ReviewStatus.CLAIMED and entry.item.claimed_by == reviewer):
            raise ReviewConflict(f"claim item {item_id} before editing its labels"
                                 + (f" (held by {entry.item.claimed_by})"
                                    if entry.item.claimed_by else ""))
        img = self.media.media(entry.finding).image(image_key)
        check_boxes(boxes, img.width, img.height)
        saved = self.labels.save(item_id, image_key, boxes, author=reviewer, source="reviewer",
                                 base_revision=base_revision, width=img.width,
                                 height=img.height)
        return saved.as_json()

    # -- images -----------------------------------------------------------------------------
    def item_media(self, item_id: str) -> tuple[ReviewEntry, ItemMedia]:
        entry = self.queue.get(item_id)
        return entry, self.media.media(entry.finding)

    def image(self, item_id: str, reviewer: str, key: str) -> ScanImage:
        """The image ``key`` of the item as ``reviewer`` is shown it (with a projected threat
        while a TIP trial of theirs is pending)."""
        _, media = self.item_media(item_id)
        img = media.image(key)
        trial = self.tip.pending(item_id, reviewer)
        if trial is None or trial.image_sha256 != key:
            return img
        return self._tip_images.get_or_make(
            trial.id, lambda: project(img, make_threat(img, trial.seed), f"{key}#{trial.id}"))

    def _maybe_project(self, entry: ReviewEntry, reviewer: str) -> None:
        """Start a TIP trial for this claim if the draw says so and an image can carry it."""
        if not self.tip.draw() or self.tip.pending(entry.item.id, reviewer) is not None:
            return
        try:
            media = self.media.media(entry.finding)
        except Exception:  # an unreadable item is a review problem, not a TIP one
            log.exception("TIP: could not read the media of %s", entry.item.id)
            return
        img = next((im for im in media.images if tip_applicable(im)), None)
        if img is None:
            return
        seed = self.tip.new_seed()
        try:
            patch = make_threat(img, seed)
        except TipNotApplicable:
            return
        trial = self.tip.start(entry.item.id, reviewer, img.key, patch.label, patch.box, seed)
        log.info("TIP trial %s for %s on %s", trial.id, reviewer, entry.item.id)

