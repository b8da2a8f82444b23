"""GET /v1/evidence/cases/{id}: auditors only; clear 4xx for unknown or malformed ids."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kouan.auth import Role
from kouan.services import Services
from tests.unit.evidence.helpers import populate


def test_case_manifest_and_ledger_slice(api: TestClient, services: Services, token_for) -> None:  # type: ignore[no-untyped-def]
    pop = populate(services.evidence, cases=2, captures=1)
    auditor = token_for(Role.AUDITOR)
    r = api.get("/v1/evidence/cases/psg-1", headers=auditor)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [rec["seq"] for rec in body["records"]] == [2, 3]
    assert body["records"][1]["prev_hash"] == body["records"][0]["entry_hash"]
    assert {o["sha256"] for o in body["manifest"]["objects"]} >= set(pop.captures["psg-1"])
    sha = pop.captures["psg-1"][0]
    obj = api.get(f"/v1/evidence/objects/{sha}", headers=auditor)
    assert obj.status_code == 200 and obj.headers["x-content-sha256"] == sha
    pem = api.get("/v1/evidence/public-key", headers=auditor)
    assert pem.text.startswith("-----BEGIN PUBLIC KEY-----")


def test_access_and_bad_input(api: TestClient, services: Services, token_for) -> None:  # type: ignore[no-untyped-def]
    populate(services.evidence, cases=1, captures=1)
    assert api.get("/v1/evidence/cases/psg-0").status_code == 401
    assert api.get("/v1/evidence/cases/psg-0",
                   headers=token_for(Role.REVIEWER)).status_code == 403
    auditor = token_for(Role.AUDITOR)
    r = api.get("/v1/evidence/cases/unknown", headers=auditor)
    assert r.status_code == 404 and "unknown case" in r.json()["detail"]
    assert api.get("/v1/evidence/cases/bad%20id", headers=auditor).status_code == 422
    assert api.get("/v1/evidence/cases/..", headers=auditor).status_code in (400, 404, 422)
    assert api.get("/v1/evidence/objects/" + "0" * 64, headers=auditor).status_code == 404
    assert api.get("/v1/evidence/objects/NOTHEX", headers=auditor).status_code == 422
