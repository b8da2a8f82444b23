"""FaceService end to end with in-process dlib models, the real ledger and the review queue
(SQLite in the test's data dir): watchlist hits, staff gate, probes, bad input, blurring."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from kouan.domain import FindingType, Severity
from kouan.evidence.ledger import case_lines
from kouan.queue import QueueFilter
from kouan.services import Services
from pipelines.faces.analyze import FaceInputError
from pipelines.faces.gallery import GalleryKind, UnknownGallery, UnknownSubject
from pipelines.faces.service import Actor, FaceService

GATE = Actor("gate-7", "gate")
SUP = Actor("sup-1", "supervisor")
pytestmark = pytest.mark.slow


@pytest.fixture
def svc(face_service_factory: Callable[..., FaceService]) -> FaceService:
    return face_service_factory()


def read(faces_dir: Path, name: str) -> bytes:
    return (faces_dir / name).read_bytes()


def test_watchlist_hit_queues_a_high_finding_with_alarm_and_ledger(
        svc: FaceService, services: Services, faces_dir: Path) -> None:
    out = svc.enroll("wl", "obama", [("o1", read(faces_dir, "face_recognition/obama.jpg")),
                                     ("o2", read(faces_dir, "face_recognition/obama2.jpg"))],
                     SUP, kind=GalleryKind.WATCHLIST)
    assert out["templates"] == 2
    hit = svc.identify("wl", read(faces_dir, "face_recognition/two_people.jpg"), GATE,
                       name="two_people.jpg", lane_id="lane-3")
    matches = sorted((f["box"][0], f["match"]) for f in hit["faces"])
    assert [m for _, m in matches] == ["obama", None]  # Obama left, Biden right (not listed)
    assert hit["findings"] and "probe_id" not in hit
    entry = services.queue.list_items(QueueFilter(case_id=hit["case_id"]))[0]
    assert entry.finding.type is FindingType.WATCHLIST_HIT
    assert entry.finding.severity is Severity.HIGH and entry.alarm_id is not None
    assert entry.finding.evidence and entry.finding.lane_id == "lane-3"
    with services.sessions() as s:
        kinds = [ln["payload"].get("kind") for ln in case_lines(s, hit["case_id"])]
    assert "face_search" in kinds


def test_no_hit_keeps_only_an_expiring_probe(svc: FaceService, services: Services,
                                             faces_dir: Path) -> None:
    svc.enroll("wl", "obama", [("o", read(faces_dir, "face_recognition/obama.jpg"))], SUP,
               kind=GalleryKind.WATCHLIST)
    again = svc.enroll("wl", "obama", [("o", read(faces_dir, "face_recognition/obama.jpg"))],
                       SUP)
    assert (again["added"], again["already_enrolled"], again["templates"]) == (0, 1, 1)
    miss = svc.identify("wl", read(faces_dir, "face_recognition/biden.jpg"), GATE)
    assert miss["faces"][0]["match"] is None and miss["findings"] == []
    assert miss["faces"][0]["score"] < 0.5
    assert svc.probes.ids() == [miss["probe_id"]]
    assert services.queue.count(QueueFilter(case_id=miss["case_id"])) == 0
    import time

    assert svc.purge_probes(now=time.time() + 25 * 3600)["deleted"] == 1
    assert svc.probes.ids() == []


def test_verify_same_and_different(svc: FaceService, faces_dir: Path) -> None:
    same = svc.verify(read(faces_dir, "deepface/img1.jpg"), read(faces_dir, "deepface/img2.jpg"),
                      GATE)
    assert same["same"] is True and same["score"] > 0.5 and same["distance"] < 0.6
    diff = svc.verify(read(faces_dir, "deepface/img1.jpg"), read(faces_dir, "deepface/img3.jpg"),
                      GATE)
    assert diff["same"] is False and diff["score"] < 0.5


def test_staff_gate_allow_deny_and_finding(svc: FaceService, services: Services,
                                           faces_dir: Path) -> None:
    svc.enroll("staff", "B-1001", [("a", read(faces_dir, "deepface/img8.jpg")),
                                   ("b", read(faces_dir, "deepface/img9.jpg"))], SUP,
               kind=GalleryKind.STAFF)
    ok = svc.verify_staff("staff", "B-1001", read(faces_dir, "deepface/img50.jpg"), GATE)
    assert ok["decision"] == "allow" and ok["finding_id"] is None
    bad = svc.verify_staff("staff", "B-1001", read(faces_dir, "deepface/img13.jpg"), GATE,
                           lane_id="staff-gate-2")
    assert bad["decision"] == "deny" and bad["finding_id"]
    entry = services.queue.list_items(QueueFilter(case_id=bad["case_id"]))[0]
    assert entry.finding.type is FindingType.STAFF_VERIFICATION_FAILED
    assert entry.alarm_id is None
    with pytest.raises(UnknownSubject):
        svc.verify_staff("staff", "B-9999", read(faces_dir, "deepface/img50.jpg"), GATE)
    with pytest.raises(Exception, match="not a staff register"):
        svc.enroll("wl", "x", [("o", read(faces_dir, "deepface/img50.jpg"))], SUP,
                   kind=GalleryKind.WATCHLIST)
        svc.verify_staff("wl", "x", read(faces_dir, "deepface/img50.jpg"), GATE)


def _png(img: np.ndarray) -> bytes:
    return cv2.imencode(".png", img)[1].tobytes()


def test_bad_input_is_a_clear_usage_error(svc: FaceService, faces_dir: Path) -> None:
    noise = _png(np.random.default_rng(0).integers(0, 255, (300, 300, 3), dtype=np.uint8))
    one = read(faces_dir, "deepface/img5.jpg")
    with pytest.raises(FaceInputError, match="no face"):
        svc.verify(noise, one, GATE)
    with pytest.raises(FaceInputError, match="2 faces found where one is required"):
        svc.verify(read(faces_dir, "face_recognition/two_people.jpg"), one, GATE)
    with pytest.raises(FaceInputError, match="not an image"):
        svc.verify(b"GIF? no", one, GATE)
    with pytest.raises(FaceInputError, match="at least 32"):
        svc.verify(_png(np.zeros((8, 8, 3), np.uint8)), one, GATE)
    with pytest.raises(UnknownGallery):
        svc.identify("nope", one, GATE)
    grey = cv2.cvtColor(cv2.imdecode(np.frombuffer(one, np.uint8), cv2.IMREAD_COLOR),
                        cv2.COLOR_BGR2GRAY)
    assert svc.verify(_png(grey), one, GATE)["same"] is True  # grey input works


def test_enrolment_refuses_photos_of_different_people(svc: FaceService, faces_dir: Path) -> None:
    with pytest.raises(FaceInputError, match="do not match|does not match|do\\(es\\) not match"):
        svc.enroll("wl", "mixed", [("a", read(faces_dir, "deepface/img1.jpg")),
                                   ("b", read(faces_dir, "deepface/img2.jpg")),
                                   ("c", read(faces_dir, "deepface/img13.jpg"))], SUP,
                   kind=GalleryKind.WATCHLIST)
    assert svc.list_galleries()[0]["subjects"] == 0


def test_blurred_image_shows_no_detectable_face(svc: FaceService, faces_dir: Path) -> None:
    data = read(faces_dir, "face_recognition/two_people.jpg")
    png, regions = svc.blurred(data)
    assert regions >= 2
    assert svc.analyzer.analyze(png).faces == []
    assert len(svc.analyzer.analyze(data).faces) == 2
