"""The review API over HTTP on SQLite and PostgreSQL: leases, the two-person rule, roles,
bad inputs (4xx with a reason, nothing half-written), images and TIP statistics."""

from __future__ import annotations

import time

import pytest

from kouan.auth import Role
from kouan.domain import Severity
from tests.fixtures.alarm_path import ledger_rows
from tests.fixtures.review import AlwaysProject, ReviewEnv, submit_scan

pytestmark = pytest.mark.integration


def _claim(env: ReviewEnv, item_id: str, h: dict[str, str], lease_s: float | None = None):  # type: ignore[no-untyped-def]
    return env.client.post(f"/v1/review/items/{item_id}/claim", headers=h,
                           json={"lease_s": lease_s} if lease_s else {})


def _decide(env: ReviewEnv, item_id: str, h: dict[str, str], decision: str = "confirm",  # type: ignore[no-untyped-def]
            reason: str = "threat_confirmed", notes: str | None = None):
    return env.client.post(f"/v1/review/items/{item_id}/decision", headers=h,
                           json={"decision": decision, "reason_code": reason, "notes": notes})


def test_queue_claim_label_decide(review_env: ReviewEnv) -> None:
    env = review_env
    ana = env.headers("ana")
    low = submit_scan(env.services, severity=Severity.LOW)
    high = submit_scan(env.services, severity=Severity.HIGH, lane_id="bag-02")
    page = env.client.get("/v1/review/items", headers=ana).json()
    assert page["total"] == 2 and [i["id"] for i in page["items"]] == [high.item_id, low.item_id]
    only = env.client.get("/v1/review/items?lane_id=bag-02&status=queued", headers=ana).json()
    assert [i["id"] for i in only["items"]] == [high.item_id]

    got = env.client.post("/v1/review/claim-next", headers=ana, json={"lease_s": 60})
    assert got.status_code == 200 and got.json()["item"]["id"] == high.item_id
    assert got.json()["held_by_me"] is True
    r = env.client.put(f"/v1/review/items/{high.item_id}/labels", headers=ana, json={
        "image": high.image, "base_revision": 0,
        "boxes": [{"label": "knife", "box": [41, 29, 82, 61]},
                  {"label": "gun_part", "box": [5, 5, 20, 30], "origin": "reviewer"}]})
    assert r.status_code == 200 and r.json()["revision"] == 1
    r = _decide(env, high.item_id, ana, "escalate", "needs_physical_inspection", "open it")
    assert r.status_code == 200 and r.json()["item"]["item"]["status"] == "escalated"
    detail = env.client.get(f"/v1/review/items/{high.item_id}", headers=ana).json()
    assert [h["action"] for h in detail["history"]] == ["queued", "claimed", "decided"]
    assert detail["labels"][high.image]["author"] == "ana"
    [entry] = ledger_rows(env.services.sessions, "review_decision")
    assert '"escalate"' in entry.payload and '"ana"' in entry.payload


def test_lease_expiry_lets_another_reviewer_take_over(review_env: ReviewEnv) -> None:
    env = review_env
    ana, bo = env.headers("ana"), env.headers("bo")
    scan = submit_scan(env.services)
    assert _claim(env, scan.item_id, ana, lease_s=0.3).status_code == 200
    r = _claim(env, scan.item_id, bo)
    assert r.status_code == 409 and "claimed by ana" in r.json()["detail"]
    time.sleep(0.5)
    listed = env.client.get("/v1/review/items?status=queued", headers=bo).json()
    assert [i["id"] for i in listed["items"]] == [scan.item_id]
    assert _claim(env, scan.item_id, bo).json()["item"]["claimed_by"] == "bo"
    r = _decide(env, scan.item_id, ana, "dismiss", "benign_object")
    assert r.status_code == 409 and "held by bo" in r.json()["detail"]
    r = env.client.put(f"/v1/review/items/{scan.item_id}/labels", headers=ana,
                       json={"image": scan.image, "base_revision": 0, "boxes": []})
    assert r.status_code == 409 and "held by bo" in r.json()["detail"]
    assert env.client.get(f"/v1/review/items/{scan.item_id}", headers=bo).json()[
        "history"][-1]["detail"]["took_over_from"] == "ana"


def test_two_person_rule_over_http(review_env: ReviewEnv) -> None:
    env = review_env
    ana, bo = env.headers("ana"), env.headers("bo")
    ana2 = env.headers("ana")  # a second token of the same person
    scan = submit_scan(env.services, severity=Severity.CRITICAL)
    _claim(env, scan.item_id, ana)
    first = _decide(env, scan.item_id, ana).json()
    assert first["item"]["item"]["status"] == "queued"
    assert first["item"]["awaiting_second_after"] == "ana"
    r = _claim(env, scan.item_id, ana2)
    assert r.status_code == 409 and "two-person rule" in r.json()["detail"]
    assert env.client.post("/v1/review/claim-next", headers=ana2).status_code == 204
    assert _claim(env, scan.item_id, bo).status_code == 200
    done = _decide(env, scan.item_id, bo).json()
    assert done["item"]["item"]["status"] == "confirmed"
    assert done["item"]["item"]["decided_by"] == "bo"


@pytest.mark.parametrize("role", [Role.GATE, Role.AUDITOR, Role.ENGINEER])
def test_other_roles_cannot_review(review_env: ReviewEnv, role: Role) -> None:
    env = review_env
    h = env.headers("someone", role)
    scan = submit_scan(env.services)
    for method, path, body in [
        ("get", "/v1/review/items", None),
        ("get", f"/v1/review/items/{scan.item_id}", None),
        ("post", f"/v1/review/items/{scan.item_id}/claim", {}),
        ("post", f"/v1/review/items/{scan.item_id}/decision",
         {"decision": "dismiss", "reason_code": "benign_object"}),
        ("get", f"/v1/review/items/{scan.item_id}/images/{scan.image}/views/pseudo_colour.png",
         None),
        ("get", "/v1/review/supervisor/tip", None),
    ]:
        r = env.client.request(method.upper(), path, headers=h, json=body)
        assert r.status_code == 403, (path, r.status_code)
        assert role.value in r.json()["detail"]
    assert env.services.queue.get(scan.item_id).item.status.value == "queued"


def test_missing_or_unknown_token(review_env: ReviewEnv) -> None:
    assert review_env.client.get("/v1/review/items").status_code == 401
    bad = {"Authorization": "Bearer kouan_not-a-token"}
    assert review_env.client.get("/v1/review/items", headers=bad).status_code == 401


def test_reviewer_cannot_see_tip_statistics(review_env: ReviewEnv) -> None:
    env = review_env
    r = env.client.get("/v1/review/supervisor/tip", headers=env.headers("ana"))
    assert r.status_code == 403
    r = env.client.put("/v1/review/supervisor/tip", headers=env.headers("ana"), json={"rate": 0.1})
    assert r.status_code == 403


def test_bad_inputs_are_4xx_and_write_nothing(review_env: ReviewEnv) -> None:
    env = review_env
    ana = env.headers("ana")
    scan = submit_scan(env.services)
    item = f"/v1/review/items/{scan.item_id}"
    # decisions on an item not claimed by the caller, unknown items, bad reasons
    r = _decide(env, scan.item_id, ana, "dismiss", "benign_object")
    assert r.status_code == 409 and "must be claimed by ana" in r.json()["detail"]
    assert env.client.get("/v1/review/items/rev-nope", headers=ana).status_code == 404
    assert _decide(env, "rev-nope", ana).status_code == 404
    _claim(env, scan.item_id, ana)
    for body, status, reason in [
        ({"decision": "approve", "reason_code": "x"}, 422, "decision"),
        ({"decision": "dismiss", "reason_code": "threat_confirmed"}, 422, "not valid for dismiss"),
        ({"decision": "dismiss", "reason_code": "other"}, 422, "needs a note"),
        ({"decision": "dismiss"}, 422, "reason_code"),
        ({"decision": "dismiss", "reason_code": "benign_object", "extra": 1}, 422, "extra"),
        ({"decision": "dismiss", "reason_code": "benign_object", "notes": "x" * 4001}, 422,
         "notes"),
    ]:
        r = env.client.post(f"{item}/decision", headers=ana, json=body)
        assert r.status_code == status and reason in r.text, (body, r.text)
    # malformed box edits
    for boxes, status, reason in [
        ([{"label": "knife", "box": [50, 50, 10, 60]}], 422, "negative or zero size"),
        ([{"label": "knife", "box": [-3, 0, 10, 10]}], 422, "outside the 128 x 96 image"),
        ([{"label": "knife", "box": [0, 0, 129, 10]}], 422, "outside"),
        ([{"label": "knife", "box": [0, 0, 10]}], 422, "box"),
        ([{"label": "", "box": [0, 0, 10, 10]}], 422, "label"),
        ([{"label": "knife", "box": [0, 0, 1, 1], "score": 2}], 422, "score"),
    ]:
        r = env.client.put(f"{item}/labels", headers=ana,
                           json={"image": scan.image, "base_revision": 0, "boxes": boxes})
        assert r.status_code == status and reason in r.text, (boxes, r.text)
    r = env.client.put(f"{item}/labels", headers=ana,
                       json={"image": "e" * 64, "base_revision": 0, "boxes": []})
    assert r.status_code == 404 and "not part of this item" in r.text
    r = env.client.put(f"{item}/labels", headers=ana,
                       json={"image": scan.image, "base_revision": 3, "boxes": []})
    assert r.status_code == 409 and "changed since revision 3" in r.text
    # bad filters and lease lengths
    assert env.client.get("/v1/review/items?status=maybe", headers=ana).status_code == 422
    assert env.client.get("/v1/review/items?limit=0", headers=ana).status_code == 422
    assert _claim(env, scan.item_id, ana, lease_s=10**6).status_code == 422
    # nothing of the above was written
    detail = env.client.get(item, headers=ana).json()
    assert detail["item"]["status"] == "claimed" and detail["labels"][scan.image]["revision"] == 0
    assert [h["action"] for h in detail["history"]] == ["queued", "claimed"]
    assert ledger_rows(env.services.sessions, "review_decision") == []


def test_images_views_tiles_and_raw16(review_env: ReviewEnv) -> None:
    env = review_env
    ana = env.headers("ana")
    scan = submit_scan(env.services)
    base = f"/v1/review/items/{scan.item_id}/images/{scan.image}"
    r = env.client.get(f"{base}/views/metal_only.png", headers=ana)
    assert r.status_code == 200 and r.content[:4] == b"\x89PNG"
    assert r.headers["cache-control"] == "no-store"
    r = env.client.get(f"{base}/raw16", headers=ana)
    assert (r.headers["x-width"], r.headers["x-height"]) == ("128", "96")
    assert len(r.content) == 128 * 96 * 2
    assert env.client.get(f"{base}/tiles/pseudo_colour/0/0/0.png",
                          headers=ana).status_code == 200
    assert env.client.get(f"{base}/tiles/pseudo_colour/0/1/0.png", headers=ana).status_code == 422
    assert env.client.get(f"{base}/views/xray.png", headers=ana).status_code == 404
    other = submit_scan(env.services)
    r = env.client.get(f"/v1/review/items/{scan.item_id}/images/{other.image}/raw16", headers=ana)
    assert r.status_code == 404  # an image of another item is not reachable through this one


def test_undecodable_evidence_is_an_attachment_not_an_error(review_env: ReviewEnv) -> None:
    env = review_env
    ana = env.headers("ana")
    junk = env.services.evidence.put_capture("case-junk", b"not an image at all", "text/plain")
    scan = submit_scan(env.services, extra_evidence=[junk, "f" * 64])
    d = env.client.get(f"/v1/review/items/{scan.item_id}", headers=ana).json()
    assert len(d["images"]) == 1
    notes = {a["sha256"]: a["note"] for a in d["attachments"]}
    assert "not an image" in notes[junk] and "missing" in notes["f" * 64]


def test_tip_statistics_for_supervisors(review_env: ReviewEnv) -> None:
    env = review_env
    sup, ana = env.headers("sam", Role.SUPERVISOR), env.headers("ana")
    env.workstation(tip_rng=AlwaysProject())
    assert env.client.put("/v1/review/supervisor/tip", headers=sup,
                          json={"rate": 0.9}).status_code == 422
    r = env.client.put("/v1/review/supervisor/tip", headers=sup, json={"rate": 0.25})
    assert r.status_code == 200 and r.json()["rate"] == 0.25 and r.json()["updated_by"] == "sam"
    scan = submit_scan(env.services)
    _claim(env, scan.item_id, ana)
    out = _decide(env, scan.item_id, ana, "dismiss", "benign_object").json()
    assert out["tip"]["outcome"] == "miss"
    stats = env.client.get("/v1/review/supervisor/tip", headers=sup).json()
    assert stats["settings"]["rate"] == 0.25
    assert stats["reviewers"] == [{"reviewer": "ana", "trials": 1, "hits": 0, "misses": 1,
                                   "pending": 0, "void": 0, "hit_rate": 0.0}]


def test_ui_is_served_without_external_resources(review_env: ReviewEnv) -> None:
    r = review_env.client.get("/ui/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert "http://" not in r.text and "https://" not in r.text
    for path in ("/ui/js/app.js", "/ui/js/viewer.js", "/ui/js/api.js", "/ui/js/panels.js",
                 "/ui/js/supervisor.js", "/ui/style.css"):
        f = review_env.client.get(path)
        assert f.status_code == 200, path
        assert "http://" not in f.text and "https://" not in f.text and "@import" not in f.text
