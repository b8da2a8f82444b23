"""The workstation over the real queue, evidence and label store (SQLite): labels, TIP trials,
the two-person rule as the queue enforces it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from annotation.boxes import LabelBox
from annotation.workstation import ReviewWorkstation
from kouan.domain import ReviewDecision, ReviewStatus, Severity
from kouan.queue import QueueFilter, ReviewConflict
from kouan.services import Services
from tests.fixtures.alarm_path import ledger_rows
from tests.fixtures.review import AlwaysProject, npz_bytes, submit_scan


@pytest.fixture
def ws(services: Services) -> ReviewWorkstation:
    return ReviewWorkstation(services.queue, services.evidence, services.sessions)


def test_detail_starts_from_the_model_boxes(services: Services, ws: ReviewWorkstation) -> None:
    scan = submit_scan(services, boxes=[("knife", (40.0, 30.0, 80.0, 60.0)),
                                        ("gun_part", (100.0, 80.0, 200.0, 120.0))])
    d = ws.detail(scan.item_id, "ana")
    [img] = d["images"]
    assert img["key"] == scan.image and img["kind"] == "dual_energy"
    lab = d["labels"][scan.image]
    assert lab["revision"] == 0 and lab["source"] == "model"
    # the second detection ran off the 128 x 96 image: clipped, not dropped
    assert [b["box"] for b in lab["boxes"]] == [[40, 30, 80, 60], [100, 80, 128, 96]]
    assert d["history"][0]["action"] == "queued" and not d["held_by_me"]


def test_labels_need_the_claim_and_the_current_revision(services: Services,
                                                        ws: ReviewWorkstation) -> None:
    scan = submit_scan(services)
    box = [LabelBox(label="knife", box=(1, 2, 30, 40))]
    with pytest.raises(ReviewConflict, match="claim item"):
        ws.save_labels(scan.item_id, "ana", scan.image, box, 0)
    ws.claim(scan.item_id, "ana")
    first = ws.save_labels(scan.item_id, "ana", scan.image, box, 0)
    assert first["revision"] == 1
    with pytest.raises(ReviewConflict, match="changed since revision 0"):
        ws.save_labels(scan.item_id, "ana", scan.image, [], 0)
    with pytest.raises(ValueError, match="outside"):
        ws.save_labels(scan.item_id, "ana", scan.image,
                       [LabelBox(label="knife", box=(1, 2, 300, 40))], 1)
    assert ws.save_labels(scan.item_id, "ana", scan.image, [], 1)["revision"] == 2
    assert [r.revision for r in ws.labels.history(scan.item_id, scan.image)] == [1, 2]
    assert ws.detail(scan.item_id, "ana")["labels"][scan.image]["boxes"] == []


def test_page_shows_sla_and_second_confirmation(services: Services,
                                                ws: ReviewWorkstation) -> None:
    crit = submit_scan(services, severity=Severity.CRITICAL)
    submit_scan(services, severity=Severity.LOW)
    ws.claim(crit.item_id, "ana")
    out = ws.decide(crit.item_id, "ana", ReviewDecision.CONFIRM, "threat_confirmed", None)
    assert out["applied"] and out["item"]["item"]["status"] == "queued"
    page = ws.page(QueueFilter())
    assert page["total"] == 2
    top = page["items"][0]
    assert (top["id"], top["awaiting_second_after"], top["severity"]) == (crit.item_id, "ana",
                                                                           "critical")
    assert top["sla"]["sla_s"] == 120 and page["items"][1]["awaiting_second_after"] is None


def test_two_person_rule(services: Services, ws: ReviewWorkstation) -> None:
    scan = submit_scan(services, severity=Severity.CRITICAL)
    ws.claim(scan.item_id, "ana")
    ws.decide(scan.item_id, "ana", ReviewDecision.CONFIRM, "threat_confirmed", None)
    with pytest.raises(ReviewConflict, match="two-person rule"):
        ws.claim(scan.item_id, "ana")
    assert ws.claim_next("ana") is None  # nothing else for ana: she confirmed the only item
    got = ws.claim_next("bo")
    assert got is not None and got["item"]["id"] == scan.item_id
    done = ws.decide(scan.item_id, "bo", ReviewDecision.CONFIRM, "threat_confirmed", "agree")
    assert done["item"]["item"]["status"] == ReviewStatus.CONFIRMED.value
    assert done["item"]["item"]["decided_by"] == "bo"

    payloads = [json.loads(r.payload) for r in ledger_rows(services.sessions, "review_decision")]
    assert [(p["reviewer"], p["status"]) for p in payloads] == [
        ("ana", "awaiting_second_confirmation"), ("bo", "confirmed")]
    assert payloads[1]["first_confirmed_by"] == "ana"
    actions = [h["action"] for h in done["item"]["history"]]
    assert actions == ["queued", "claimed", "first_confirmed", "claimed", "decided"]


def test_high_severity_needs_one_confirmation(services: Services, ws: ReviewWorkstation) -> None:
    scan = submit_scan(services, severity=Severity.HIGH)
    ws.claim(scan.item_id, "ana")
    out = ws.decide(scan.item_id, "ana", ReviewDecision.CONFIRM, "threat_confirmed", None)
    assert out["item"]["item"]["status"] == "confirmed"


def _tip_ws(services: Services) -> ReviewWorkstation:
    ws = ReviewWorkstation(services.queue, services.evidence, services.sessions,
                           tip_rng=AlwaysProject())
    ws.tip.set_rate(0.5, "sup")
    return ws


def test_tip_miss_keeps_the_decision(services: Services) -> None:
    ws = _tip_ws(services)
    scan = submit_scan(services)
    plain = ws.detail(scan.item_id, "ana")
    claimed = ws.claim(scan.item_id, "ana")
    trial = ws.tip.pending(scan.item_id, "ana")
    assert trial is not None
    # the item's JSON says nothing about it ...
    assert claimed["images"] == plain["images"] and claimed["labels"] == plain["labels"]
    assert set(claimed) == set(plain)
    # ... but ana's pixels show it, and only ana's
    original = ws.media.media(services.queue.get(scan.item_id).finding).image(scan.image)
    seen = ws.image(scan.item_id, "ana", scan.image)
    assert seen.high is not None and original.high is not None
    assert (seen.high < original.high - 1e-3).any()
    assert ws.image(scan.item_id, "bo", scan.image) is original
    out = ws.decide(scan.item_id, "ana", ReviewDecision.DISMISS, "benign_object", None)
    assert out["applied"] and out["tip"] == {"outcome": "miss", "label": trial.threat_label}
    assert out["item"]["item"]["status"] == "dismissed"
    [row] = ws.tip.stats()
    assert (row["reviewer"], row["misses"], row["hits"], row["hit_rate"]) == ("ana", 1, 0, 0.0)


def test_tip_hit_shows_the_real_image_and_keeps_labels_clean(services: Services) -> None:
    ws = _tip_ws(services)
    scan = submit_scan(services, boxes=[])
    ws.claim(scan.item_id, "ana")
    trial = ws.tip.pending(scan.item_id, "ana")
    assert trial is not None
    x1, y1, x2, y2 = trial.box
    mine = LabelBox(label="knife", box=(max(0.0, x1 - 1), max(0.0, y1 - 1), x2, y2))
    keep = LabelBox(label="laptop", box=(1, 1, 5, 5), origin="model")
    ws.save_labels(scan.item_id, "ana", scan.image, [mine, keep], 0)
    out = ws.decide(scan.item_id, "ana", ReviewDecision.ESCALATE, "image_unclear", None)
    assert not out["applied"] and out["tip"]["outcome"] == "hit"
    assert out["item"]["item"]["status"] == "claimed" and out["item"]["held_by_me"]
    labels = out["item"]["labels"][scan.image]
    assert [b["label"] for b in labels["boxes"]] == ["laptop"] and labels["revision"] == 2
    original = ws.media.media(services.queue.get(scan.item_id).finding).image(scan.image)
    assert ws.image(scan.item_id, "ana", scan.image) is original
    final = ws.decide(scan.item_id, "ana", ReviewDecision.DISMISS, "benign_object", None)
    assert final["applied"] and final["tip"] is None
    assert ws.tip.stats()[0]["hit_rate"] == 1.0


def test_release_voids_the_trial(services: Services) -> None:
    ws = _tip_ws(services)
    scan = submit_scan(services)
    ws.claim(scan.item_id, "ana")
    ws.release(scan.item_id, "ana")
    assert ws.tip.pending(scan.item_id, "ana") is None
    assert ws.tip.stats()[0]["void"] == 1


def test_no_tip_when_rate_is_zero(services: Services) -> None:
    ws = ReviewWorkstation(services.queue, services.evidence, services.sessions,
                           tip_rng=AlwaysProject())
    scan = submit_scan(services)
    ws.claim(scan.item_id, "ana")
    assert ws.tip.pending(scan.item_id, "ana") is None
    with pytest.raises(ValueError, match="between 0 and 0.5"):
        ws.tip.set_rate(0.9, "sup")


def test_views_are_cached(services: Services, ws: ReviewWorkstation) -> None:
    scan = submit_scan(services)
    img = ws.image(scan.item_id, "ana", scan.image)
    a = ws.media.view(img, "metal_only")
    assert ws.media.view(img, "metal_only") is a
    lv, grid = ws.media.level(img, "pseudo_colour", 0)
    assert grid.levels == 1 and isinstance(lv, np.ndarray)


def test_ct_item_has_mips_and_projected_3d_boxes(services: Services,
                                                 ws: ReviewWorkstation) -> None:
    vol = np.zeros((8, 20, 30), np.float32)
    vol[2:5, 4:9, 10:20] = 1000.0
    scan = submit_scan(services, boxes=[], data=npz_bytes(
        volume=vol, boxes3d=np.array([[10, 4, 2, 20, 9, 5]], np.float32),
        labels3d=np.array(["ied"])))
    [img] = ws.detail(scan.item_id, "ana")["images"]
    assert img["kind"] == "ct" and img["views"] == ["mip_axial", "mip_front", "mip_side"]
    assert img["projected_boxes"]["mip_front"] == [{"label": "ied", "box": [10, 2, 20, 5]}]
    front = ws.media.view(ws.image(scan.item_id, "ana", scan.image), "mip_front")
    assert front.shape == (8, 30) and front[3, 15] > front[0, 0]
