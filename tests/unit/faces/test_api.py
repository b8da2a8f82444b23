"""Face API: roles, answers and 4xx reasons (in-process dlib models behind the service)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from kouan.auth import Role
from pipelines.faces.service import FaceService
from serving.faces_api import attach_service

pytestmark = pytest.mark.slow
P1_A, P1_B = "deepface/img5.jpg", "deepface/img10.jpg"  # deepface_person_01
P3 = "deepface/img50.jpg"  # deepface_person_03


@pytest.fixture
def client(api: TestClient, face_service_factory: Callable[..., FaceService]) -> TestClient:
    attach_service(api.app, face_service_factory())  # type: ignore[arg-type]
    return api


def img(faces_dir: Path, name: str) -> tuple[str, bytes, str]:
    return (Path(name).name, (faces_dir / name).read_bytes(), "image/jpeg")


def test_roles_guard_identity_routes(client: TestClient, token_for, faces_dir: Path) -> None:  # type: ignore[no-untyped-def]
    files = {"image_a": img(faces_dir, P1_A), "image_b": img(faces_dir, P1_B)}
    assert client.post("/v1/faces/verify", files=files).status_code == 401
    for role in (Role.REVIEWER, Role.AUDITOR, Role.ENGINEER):
        r = client.post("/v1/faces/verify", files=files, headers=token_for(role))
        assert r.status_code == 403, role
        r = client.post("/v1/faces/galleries/w/identify", files={"image": img(faces_dir, P3)},
                        headers=token_for(role))
        assert r.status_code == 403, role
    gate = token_for(Role.GATE)
    assert client.get("/v1/faces/galleries", headers=gate).status_code == 403
    r = client.post("/v1/faces/galleries/w/subjects/x", files={"images": img(faces_dir, P3)},
                    headers=gate)
    assert r.status_code == 403


def test_enrol_identify_verify_staff_flow(client: TestClient, token_for,  # type: ignore[no-untyped-def]
                                          faces_dir: Path) -> None:
    sup, gate = token_for(Role.SUPERVISOR), token_for(Role.GATE)
    r = client.post("/v1/faces/galleries", json={"name": "wl", "kind": "watchlist"}, headers=sup)
    assert r.status_code == 201 and r.json()["kind"] == "watchlist"
    r = client.post("/v1/faces/galleries/wl/subjects/P1", files=[("images", img(faces_dir, P1_A))],
                    headers=sup)
    assert r.status_code == 200, r.text
    r = client.post("/v1/faces/galleries/wl/identify", files={"image": img(faces_dir, P1_B)},
                    data={"lane_id": "ped-1"}, headers=gate)
    body = r.json()
    assert r.status_code == 200 and body["faces"][0]["match"] == "P1" and body["findings"]
    r = client.post("/v1/faces/verify", headers=gate,
                    files={"image_a": img(faces_dir, P1_A), "image_b": img(faces_dir, P3)})
    assert r.status_code == 200 and r.json()["same"] is False
    r = client.post("/v1/faces/galleries/staff/subjects/B-7", headers=sup,
                    files=[("images", img(faces_dir, P3))], data={"kind": "staff"})
    assert r.status_code == 200, r.text
    r = client.post("/v1/faces/staff/staff/B-7/verify", headers=gate,
                    files={"image": img(faces_dir, P1_B)})
    assert r.status_code == 200 and r.json()["decision"] == "deny" and r.json()["finding_id"]
    listed = {g["name"]: g for g in client.get("/v1/faces/galleries", headers=sup).json()}
    assert listed["wl"]["subjects"] == 1 and listed["staff"]["kind"] == "staff"
    r = client.delete("/v1/faces/galleries/wl/subjects/P1", headers=sup)
    assert r.status_code == 200 and r.json()["templates_removed"] == 1


def test_bad_input_answers_4xx_with_a_reason(client: TestClient, token_for,  # type: ignore[no-untyped-def]
                                             faces_dir: Path) -> None:
    sup, gate = token_for(Role.SUPERVISOR), token_for(Role.GATE)
    r = client.post("/v1/faces/galleries/nope/identify", files={"image": img(faces_dir, P3)},
                    headers=gate)
    assert r.status_code == 404 and "unknown gallery" in r.json()["detail"]
    text = ("notes.jpg", b"this is text, not a photo", "image/jpeg")
    r = client.post("/v1/faces/verify", files={"image_a": text, "image_b": img(faces_dir, P3)},
                    headers=gate)
    assert r.status_code == 422 and "not an image" in r.json()["detail"]
    blank = ("blank.png", cv2.imencode(".png", np.full((200, 200, 3), 127, np.uint8))[1]
             .tobytes(), "image/png")
    r = client.post("/v1/faces/verify", files={"image_a": blank, "image_b": img(faces_dir, P3)},
                    headers=gate)
    assert r.status_code == 422 and "no face" in r.json()["detail"]
    r = client.post("/v1/faces/galleries", json={"name": "../x", "kind": "watchlist"},
                    headers=sup)
    assert r.status_code == 422
    r = client.post("/v1/faces/galleries", json={"name": "ok", "kind": "vip"}, headers=sup)
    assert r.status_code == 422
    client.post("/v1/faces/galleries", json={"name": "st", "kind": "staff"}, headers=sup)
    r = client.post("/v1/faces/staff/st/B-404/verify", files={"image": img(faces_dir, P3)},
                    headers=gate)
    assert r.status_code == 404 and "B-404" in r.json()["detail"]


def test_blur_is_for_every_role_and_removes_faces(client: TestClient, token_for,  # type: ignore[no-untyped-def]
                                                  faces_dir: Path) -> None:
    r = client.post("/v1/faces/blur", files={"image": img(faces_dir, P3)},
                    headers=token_for(Role.REVIEWER))
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert int(r.headers["X-Kouan-Faces-Blurred"]) >= 1
    out = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR)
    assert out.shape[:2] == (512, 410)


def test_without_models_the_routes_answer_503(api: TestClient, token_for) -> None:  # type: ignore[no-untyped-def]
    r = api.get("/v1/faces/galleries", headers=token_for(Role.SUPERVISOR))
    assert r.status_code == 503 and "inference server" in r.json()["detail"]
