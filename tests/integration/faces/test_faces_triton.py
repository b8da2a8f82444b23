"""Faces through the real servers: embedded Triton (python-backend dlib models), SeaweedFS S3
for the face store and evidence, PostgreSQL for the review queue and ledger."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kouan.cli.main import main
from kouan.config import get_settings
from kouan.domain import FindingType
from kouan.evidence.layout import object_key
from kouan.queue import QueueFilter
from kouan.services import build_services
from pipelines.faces.analyze import FaceAnalyzer
from pipelines.faces.blobstore import S3BlobStore, open_face_store
from pipelines.faces.calibrate import read_pairs
from pipelines.faces.gallery import Gallery, GalleryKind
from pipelines.faces.models import LocalFaceModels, TritonFaceModels
from pipelines.faces.service import Actor, FaceService
from serving.client import TritonClient
from serving.embedded import EmbeddedTriton
from tests.fixtures.postgres import pg_url
from vision.faces.decode import decode_rgb
from vision.faces.detect_prep import detection_input

pytestmark = [pytest.mark.integration, pytest.mark.slow]
GATE = Actor("it-gate", "gate")


@pytest.fixture(scope="module")
def triton_faces(triton_server: EmbeddedTriton) -> Iterator[TritonFaceModels]:
    with TritonClient(triton_server.grpc_url, timeout_s=60) as client:
        yield TritonFaceModels(client)


def test_served_models_match_in_process_dlib(triton_faces: TritonFaceModels,
                                             local_face_models: LocalFaceModels,
                                             faces_dir: Path) -> None:
    rgb = decode_rgb((faces_dir / "face_recognition/two_people.jpg").read_bytes())
    prep = detection_input(rgb)
    served, local = triton_faces.detect(prep.image, prep.upsample), local_face_models.detect(
        prep.image, prep.upsample)
    assert len(served) == len(local) == 2
    assert np.array_equal(served.boxes, local.boxes)
    assert np.allclose(served.landmarks, local.landmarks)
    from vision.faces.align import extract_chips

    chips = extract_chips(rgb, served.scaled(prep.scale).landmarks)
    assert np.allclose(triton_faces.embed(chips), local_face_models.embed(chips), atol=1e-5)
    many = np.repeat(chips, 17, axis=0)  # 34 chips: split over the 32-chip max batch
    assert triton_faces.embed(many).shape == (34, 128)


def test_verify_real_pairs_through_triton(triton_faces: TritonFaceModels,
                                          faces_dir: Path) -> None:
    """A balanced sample of pairs.csv (small images, to keep the run short) end to end."""
    analyzer = FaceAnalyzer(triton_faces)
    pairs = read_pairs(faces_dir)
    small = {"deepface/img5.jpg", "deepface/img10.jpg", "deepface/img12.jpg",
             "deepface/img50.jpg", "deepface/img51.jpg", "deepface/img62.jpg",
             "deepface/img46.jpg", "deepface/img21.jpg", "deepface/img16.jpg"}
    chosen = [p for p in pairs if p.a in small and p.b in small]
    assert sum(p.same for p in chosen) >= 3 and sum(not p.same for p in chosen) >= 3
    emb = {n: analyzer.one_face((faces_dir / n).read_bytes(), n)[0].embedding for n in small}
    from vision.faces.embeddings import distances

    for p in chosen:
        assert (distances(emb[p.a], emb[p.b])[0, 0] <= 0.6) == p.same, p


def test_watchlist_on_s3_and_postgres(triton_faces: TritonFaceModels, faces_dir: Path,
                                      s3_env, s3_bucket: str, pg_database: str,  # type: ignore[no-untyped-def]
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    s3_env(s3_bucket)
    monkeypatch.setenv("KOUAN_DB_URL", pg_url(pg_database))
    get_settings.cache_clear()
    settings = get_settings()
    services = build_services(settings)
    try:
        svc = FaceService.from_settings(settings, triton_faces, evidence=services.evidence,
                                        queue=services.queue)
        store = open_face_store(settings)
        assert isinstance(store, S3BlobStore) and store.bucket == f"{s3_bucket}-faces"
        img = lambda n: (faces_dir / n).read_bytes()  # noqa: E731
        # a subject id long enough that random ciphertext never contains it by chance
        subject = "subject-P3-on-watchlist"
        svc.enroll("wl", subject,
                   [("a", img("deepface/img50.jpg")), ("b", img("deepface/img51.jpg"))],
                   Actor("it-sup", "supervisor"), kind=GalleryKind.WATCHLIST)
        raw = store.get(Gallery.subject_key("wl", subject))
        assert raw.startswith(b"KFT1") and subject.encode() not in raw  # encrypted at rest in S3
        hit = svc.identify("wl", img("deepface/img8.jpg"), GATE, lane_id="ped-2")
        assert hit["faces"][0]["match"] == subject
        entry = services.queue.list_items(QueueFilter(case_id=hit["case_id"]))[0]
        assert entry.finding.type is FindingType.WATCHLIST_HIT and entry.alarm_id
        sha = entry.finding.evidence[0]  # the probe became evidence in the S3 evidence bucket
        assert services.evidence.store.exists(object_key(sha))
        miss = svc.identify("wl", img("deepface/img5.jpg"), GATE)
        assert miss["faces"][0]["match"] is None and miss["probe_id"] in svc.probes.ids()
        svc.remove("wl", subject, GATE)
        assert not store.exists(Gallery.subject_key("wl", subject))
        reopened = FaceService.from_settings(settings, triton_faces, evidence=services.evidence,
                                             queue=services.queue)
        assert reopened.gallery("wl").index.size == 0
    finally:
        services.close()


def test_cli_against_the_served_models(triton_server: EmbeddedTriton, faces_dir: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KOUAN_TRITON_URL", triton_server.grpc_url)
    get_settings.cache_clear()
    a, b = str(faces_dir / "deepface/img5.jpg"), str(faces_dir / "deepface/img10.jpg")
    assert main(["faces", "verify", a, b, "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["same"] is True and 0.5 < out["score"] <= 1.0
    assert main(["faces", "enroll", "-g", "staff", "--kind", "staff", "--id", "B-1", a]) == 0
    assert main(["faces", "identify", "-g", "staff", str(faces_dir / "deepface/img50.jpg"),
                 "--json"]) == 0
    found = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert found["faces"][0]["match"] is None and len(found["faces"][0]["box"]) == 4
    assert main(["faces", "verify", a, str(faces_dir / "face_recognition/two_people.jpg")]) == 2
    assert main(["faces", "identify", "-g", "missing", a]) == 2
    assert main(["faces", "staff-verify", "-g", "staff", "--badge", "B-2", a]) == 2


def test_demo_staff_gate_and_watchlist(triton_faces: TritonFaceModels, services,  # type: ignore[no-untyped-def]
                                       faces_dir: Path) -> None:
    from pipelines.faces.demo import run_demo

    summary = run_demo(services, triton_faces.client, faces_dir.parent)
    assert [g["decision"] for g in summary["staff_gate"]] == ["allow", "deny"]
    assert summary["staff_gate"][1]["finding"]
    hit, miss = summary["watchlist"]
    assert [f["match"] for f in hit["faces"]].count("WL-0001") == 1 and hit["findings"]
    assert miss["faces"][0]["match"] is None and miss["probe_id"]
    again = run_demo(services, triton_faces.client, faces_dir.parent)  # idempotent
    assert [g["decision"] for g in again["staff_gate"]] == ["allow", "deny"]
