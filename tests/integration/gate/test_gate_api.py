"""The gate API against embedded Triton, the real evidence store and the real review queue."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from kouan.auth import Role
from kouan.services import Services

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# A CCPD photo whose plate reads reliably, and a gate-camera container photo.
PLATE_FILE = ("ccpd/0200311302682-90_89-282&337_528&424-536&423_287&422_292&333_541&334-"
              "0_0_21_16_32_32_31-40-44.jpg")
PLATE_TEXT = "皖AXS887"
CONTAINER_FILE = "maca_container1.jpg"
CONTAINER_CODE = "PSSU1102456"


def declaration(**kw: Any) -> str:
    base: dict[str, Any] = {"plate": PLATE_TEXT, "container_numbers": [CONTAINER_CODE]}
    base.update(kw)
    return json.dumps(base, ensure_ascii=False)


def files(realdata: Path, plates: int = 1, containers: int = 1) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pdata = (realdata / "plates_cn" / PLATE_FILE).read_bytes()
    cdata = (realdata / "containers" / CONTAINER_FILE).read_bytes()
    out += [("plate_images", (f"plate{i}.jpg", pdata, "image/jpeg")) for i in range(plates)]
    out += [("container_images", (f"c{i}.jpg", cdata, "image/jpeg")) for i in range(containers)]
    return out


def test_clear_passage_and_get(gate_api_client: TestClient, token_for: Any, realdata: Path,
                               services: Services) -> None:
    auth = token_for(Role.GATE)
    r = gate_api_client.post("/v1/passages", headers=auth, files=files(realdata),
                             data={"declaration": declaration(), "lane_id": "lane-3",
                                   "time_budget_ms": "30000"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["decision"] == "clear", body["reasons"]
    assert body["plates"][0]["plate"] == PLATE_TEXT
    assert body["plates"][0]["type"] == "cn_blue"
    assert body["containers"][0]["code"] == CONTAINER_CODE
    assert body["containers"][0]["check_digit_ok"] is True
    assert body["match"]["outcome"] == "match" and not body["finding_ids"]
    pid = body["passage_id"]
    # everything is evidence: declaration, both images, per-image inferences, the answer
    case = services.evidence.case(pid)
    roles = [o["role"] for o in case["manifest"]["objects"]] if "objects" in case[
        "manifest"] else []
    assert len(case["records"]) >= 6, roles
    got = gate_api_client.get(f"/v1/passages/{pid}", headers=auth)
    assert got.status_code == 200 and got.json() == body
    # a retry with the same id returns the stored answer
    again = gate_api_client.post("/v1/passages", headers=auth, files=files(realdata, 0, 1),
                                 data={"declaration": declaration(), "passage_id": pid})
    assert again.status_code == 200 and again.json() == body


def test_mismatch_raises_finding_and_alarm(gate_api_client: TestClient, token_for: Any,
                                           realdata: Path, services: Services) -> None:
    r = gate_api_client.post(
        "/v1/passages", headers=token_for(Role.GATE), files=files(realdata, 1, 0),
        data={"declaration": json.dumps({"plate": "皖AXS886"}, ensure_ascii=False),
              "time_budget_ms": "30000"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["decision"] == "hold"
    assert body["match"]["fields"][0]["outcome"] == "mismatch"
    assert "declared '6', read '7'" in body["reasons"][0]
    assert len(body["finding_ids"]) == 1 and len(body["alarm_ids"]) == 1
    entry = services.queue.get_by_finding(body["finding_ids"][0])
    assert entry.finding.type.value == "plate_mismatch"
    assert entry.finding.case_id == body["passage_id"]


def test_unreadable_field_means_inspect(gate_api_client: TestClient, token_for: Any,
                                        realdata: Path) -> None:
    r = gate_api_client.post(
        "/v1/passages", headers=token_for(Role.GATE), files=files(realdata, 1, 0),
        data={"declaration": declaration(), "time_budget_ms": "30000"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["decision"] == "inspect"
    assert body["finding_ids"] and not body["alarm_ids"]


def _png_bomb() -> bytes:
    ihdr = struct.pack(">IIBBBBB", 60_000, 60_000, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr
            + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)))


def _jpeg() -> bytes:
    return cv2.imencode(".jpg", np.full((64, 64, 3), 128, np.uint8))[1].tobytes()


@pytest.mark.parametrize(("upload", "status", "phrase"), [
    (("x.jpg", b"", "image/jpeg"), 422, "empty file"),
    (("x.jpg", b"%PDF-1.4 not an image", "image/jpeg"), 422, "not an image"),
    (("x.jpg", _jpeg()[:300], "image/jpeg"), 422, "truncated or corrupt"),
    (("x.gif", b"GIF89a\x10\x00\x10\x00" + b"\x00" * 40, "image/gif"), 422, "not supported"),
    (("bomb.png", _png_bomb(), "image/png"), 413, "megapixels"),
])
def test_bad_images_are_refused_but_recorded(gate_api_client: TestClient, token_for: Any,
                                             services: Services, upload: tuple[str, bytes, str],
                                             status: int, phrase: str) -> None:
    auth = token_for(Role.GATE)
    pid = f"psg-bad-{status}-{len(upload[1])}"
    r = gate_api_client.post("/v1/passages", headers=auth, files=[("plate_images", upload)],
                             data={"declaration": declaration(), "passage_id": pid})
    assert r.status_code == status, r.text
    assert phrase in r.json()["detail"] and pid in r.json()["detail"]
    # identifiable passage: the declaration, the bad file and the refusal are evidence
    case = services.evidence.case(pid)
    assert len(case["records"]) >= 3
    got = gate_api_client.get(f"/v1/passages/{pid}", headers=auth)
    assert got.status_code == 409 and phrase in got.json()["detail"]
    # retrying the refused passage id is a conflict, not a crash
    again = gate_api_client.post("/v1/passages", headers=auth, files=[("plate_images", upload)],
                                 data={"declaration": declaration(), "passage_id": pid})
    assert again.status_code == 409 and "new passage_id" in again.json()["detail"]


@pytest.mark.parametrize(("data", "status", "phrase"), [
    ({}, 422, "declaration"),
    ({"declaration": "{not json"}, 422, "malformed declaration"),
    ({"declaration": json.dumps({"plate": "蒙A12345", "container_numbers": ["BAD1"]})}, 422,
     "ISO 6346"),
    ({"declaration": json.dumps({"plate": "蒙A12345", "colour": "red"})}, 422,
     "Extra inputs"),
    ({"declaration": json.dumps({"plate": "蒙A12345"}), "time_budget_ms": "5"}, 422,
     "time_budget_ms"),
    ({"declaration": json.dumps({"plate": "蒙A12345"}), "passage_id": "a/b"}, 422,
     "passage_id"),
])
def test_bad_declarations(gate_api_client: TestClient, token_for: Any,
                          data: dict[str, str], status: int, phrase: str) -> None:
    r = gate_api_client.post("/v1/passages", headers=token_for(Role.GATE),
                             files=[("plate_images", ("a.jpg", _jpeg(), "image/jpeg"))],
                             data=data)
    assert r.status_code == status, r.text
    assert phrase in json.dumps(r.json())


def test_too_many_files_and_no_files(gate_api_client: TestClient, token_for: Any,
                                     services: Services) -> None:
    auth = token_for(Role.GATE)
    many = [("plate_images", (f"{i}.jpg", _jpeg(), "image/jpeg")) for i in range(9)]
    r = gate_api_client.post("/v1/passages", headers=auth, files=many,
                             data={"declaration": declaration(), "passage_id": "psg-many"})
    assert r.status_code == 413 and "at most 8" in r.json()["detail"]
    assert services.evidence.case("psg-many")["records"]
    r = gate_api_client.post("/v1/passages", headers=auth, data={"declaration": declaration()})
    assert r.status_code == 422 and "no images" in r.json()["detail"]


def test_roles_and_unknown(gate_api_client: TestClient, token_for: Any) -> None:
    r = gate_api_client.post("/v1/passages", data={"declaration": declaration()})
    assert r.status_code == 401
    r = gate_api_client.post("/v1/passages", headers=token_for(Role.REVIEWER),
                             data={"declaration": declaration()})
    assert r.status_code == 403
    r = gate_api_client.get("/v1/passages/psg-nope", headers=token_for(Role.GATE))
    assert r.status_code == 404
    schema = gate_api_client.get("/openapi.json").json()
    assert "/v1/passages" in schema["paths"] and "/v1/passages/{passage_id}" in schema["paths"]


def test_no_inference_server_is_503(settings: Any, services: Services, token_for: Any) -> None:
    from kouan.api.app import create_app

    with TestClient(create_app(settings, services)) as client:  # no Triton attached
        r = client.post("/v1/passages", headers=token_for(Role.GATE),
                        files=[("plate_images", ("a.jpg", _jpeg(), "image/jpeg"))],
                        data={"declaration": declaration()})
    assert r.status_code == 503 and "inference server" in r.json()["detail"]
