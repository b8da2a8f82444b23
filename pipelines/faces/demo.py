"""``run_demo``: a staff gate and a watchlist check on the real shared faces, through the real
pieces (Triton face models, encrypted face store, review queue + alarm outbox, ledger)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from kouan.services import Services
from pipelines.faces.gallery import GalleryKind
from pipelines.faces.models import TritonFaceModels
from pipelines.faces.service import Actor, FaceService
from serving.client import InferenceClient

STAFF, WATCHLIST = "demo-staff", "demo-watchlist"


def run_demo(services: Services, triton_client: InferenceClient,
             realdata_dir: Path) -> dict[str, Any]:
    """Enrol one staff member (2 photos) and one watchlist subject (1 photo), then run two staff
    gate checks (same person -> allow, another person -> deny + finding) and two 1:N checks
    (a group photo containing the subject -> hit + high finding + alarm, another person -> no
    hit, expiring probe). Returns what happened, with timings."""
    faces = realdata_dir / "faces"
    t0 = time.perf_counter()
    svc = FaceService.from_settings(services.settings, TritonFaceModels(triton_client),
                                    evidence=services.evidence, queue=services.queue)
    sup, gate = Actor("demo-supervisor", "supervisor"), Actor("demo-gate", "gate")
    for name in (STAFF, WATCHLIST):  # idempotent demo: start from empty galleries
        if name in svc.galleries.names():
            svc.delete_gallery(name, sup)

    def img(name: str) -> tuple[str, bytes]:
        return name, (faces / name).read_bytes()

    svc.enroll(STAFF, "B-0001", [img("deepface/img8.jpg"), img("deepface/img9.jpg")], sup,
               kind=GalleryKind.STAFF, display_name="staff member (deepface_person_03)")
    svc.enroll(WATCHLIST, "WL-0001", [img("face_recognition/obama.jpg")], sup,
               kind=GalleryKind.WATCHLIST, display_name="watchlist subject (barack_obama)")
    allow = svc.verify_staff(STAFF, "B-0001", img("deepface/img50.jpg")[1], gate,
                             name="deepface/img50.jpg", lane_id="staff-gate-1")
    deny = svc.verify_staff(STAFF, "B-0001", img("deepface/img13.jpg")[1], gate,
                            name="deepface/img13.jpg", lane_id="staff-gate-1")
    hit = svc.identify(WATCHLIST, img("face_recognition/two_people.jpg")[1], gate,
                       name="two_people.jpg", lane_id="pedestrian-1")
    miss = svc.identify(WATCHLIST, img("face_recognition/biden.jpg")[1], gate,
                        name="biden.jpg", lane_id="pedestrian-1")
    return {
        "staff_gate": [{"image": "deepface/img50.jpg", "decision": allow["decision"],
                        "score": allow["score"]},
                       {"image": "deepface/img13.jpg", "decision": deny["decision"],
                        "score": deny["score"], "finding": deny["finding_id"]}],
        "watchlist": [{"image": "two_people.jpg", "faces": hit["faces"],
                       "findings": hit["findings"]},
                      {"image": "biden.jpg", "faces": miss["faces"],
                       "probe_id": miss.get("probe_id")}],
        "threshold": svc.config.match_threshold,
        "seconds": round(time.perf_counter() - t0, 2),
    }
