"""End to end on real servers: generated + real scans -> Ray Data actors -> embedded Triton
(the committed ``xray_atr`` model) -> findings -> review queue, alarm outbox + relay,
evidence store; re-ingest adds nothing; an S3 prefix (SeaweedFS) as the source; the
``kouan scan analyze --json`` CLI on the real pseudo-colour samples."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from minio import Minio

from kouan.cli.main import main
from kouan.config import Settings
from kouan.domain import EvidenceEvent, FindingType
from kouan.realdata import realdata_dir
from kouan.services import Services
from pipelines.scan.analyze import ScanResult
from pipelines.scan.decode import scan_refs
from pipelines.scan.ingest import ingest_refs
from pipelines.scan.samples import write_samples
from pipelines.scan.sources import folder_files, list_scans
from serving.embedded import EmbeddedTriton
from tests.fixtures.s3 import ACCESS_KEY, SECRET_KEY, WeedServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REAL = realdata_dir() / "xray_baggage"
REAL_FILES = ("sixray_white/P00008.jpg", "negatives/N0000001.jpg", "gdxray_full/B0046_0004.png")


@pytest.fixture(scope="module")
def scan_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scans")
    write_samples(out, bags=2, ct=1)
    for rel in REAL_FILES:
        if (REAL / rel).is_file():
            shutil.copyfile(REAL / rel, out / f"real_{Path(rel).name}")
    return out


def test_ingest_into_queue_bus_and_evidence(scan_folder: Path, services: Services,
                                            triton_server: EmbeddedTriton,
                                            ray_local: None) -> None:
    refs = scan_refs(folder_files(scan_folder))
    seen: list[ScanResult] = []
    report = ingest_refs(refs, services, triton_server.grpc_url, workers=2, batch_size=3,
                         on_result=seen.append)
    assert report.scans == len(refs) == len(seen)
    by_name = {r.ref.name: r for r in seen}
    types = {t for r in seen for t in (f.type for f in r.findings)}
    assert {FindingType.EMPTY_CONTAINER_NOT_EMPTY, FindingType.MANIFEST_MISMATCH,
            FindingType.UNREADABLE} <= types
    for name in ("bag_0", "bag_1", *(f"real_{Path(r).stem}" for r in REAL_FILES)):
        if name in by_name:
            r = by_name[name]
            assert r.threat_score is not None and 0.0 <= r.threat_score <= 1.0
            assert r.model is not None and r.model[0] == "xray_atr"
            for d in r.detections:
                assert set(d) == {"label", "score", "box", "material"}
    assert by_name["ct_0"].modality == "ct_volume"
    n_items = services.queue.count()
    assert n_items == report.sinks["findings"] >= 3
    assert report.sinks["alarms"] >= 1  # the red "empty" container is high severity
    # evidence: every readable scan has its capture and its model/rule output
    for r in seen:
        if r.error:
            continue
        events = [x.event for x in services.evidence.case(r.case_id)["records"]]
        assert events.count(EvidenceEvent.CAPTURE_STORED) == 1
        if r.model or "load" in r.extra or "ct_objects" in r.extra:
            assert events.count(EvidenceEvent.INFERENCE) == 1
    assert services.relay.relay_once().published == report.sinks["alarms"]
    # re-ingest: no duplicate findings, review items or evidence
    again = ingest_refs(refs, services, triton_server.grpc_url, workers=1, batch_size=8)
    assert again.sinks["new_cases"] == 0 and services.queue.count() == n_items
    bag = by_name["bag_0"]
    events = [x.event for x in services.evidence.case(bag.case_id)["records"]]
    assert events.count(EvidenceEvent.CAPTURE_STORED) == 1


def test_s3_prefix_source(scan_folder: Path, s3_server: WeedServer, s3_bucket: str,
                          tmp_path: Path, settings: Settings) -> None:
    client = Minio(s3_server.endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY,
                   secure=False)
    bucket = s3_bucket
    for f in sorted(scan_folder.iterdir()):
        if f.name.startswith(("bag_0", "cargo_match", "corrupt")):
            client.fput_object(bucket, f"lane1/{f.name}", str(f))
    client.fput_object(bucket, "other/bag_1_low.png", str(scan_folder / "bag_1_low.png"))
    s = settings.model_copy(update={"s3_access_key": ACCESS_KEY, "s3_secret_key": SECRET_KEY})
    refs = list_scans(f"s3://{s3_server.endpoint}/{bucket}/lane1", s, tmp_path)
    assert sorted(r.name for r in refs) == ["bag_0", "cargo_match", "corrupt"]
    assert refs[1].meta["declaration"]["declared_hs_chapter"] == "27"


def test_analyze_cli_on_real_samples(triton_server: EmbeddedTriton, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOUAN_TRITON_URL", triton_server.grpc_url)
    files = [str(REAL / rel) for rel in REAL_FILES if (REAL / rel).is_file()]
    assert main(["scan", "analyze", "--json", *files]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    assert len(lines) == len(files)
    for js in lines:
        assert set(js) >= {"file", "modality", "detections", "threat_score", "findings"}
        assert 0.0 <= js["threat_score"] <= 1.0
    grey = next(js for js in lines if js["file"].endswith(".png"))
    assert grey["modality"] == "xray_single_energy"
    assert all(d["material"] == "unknown" for d in grey["detections"])
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff" + b"\x00" * 10)
    assert main(["scan", "analyze", "--json", str(bad)]) == 2
    out = json.loads(capsys.readouterr().out.splitlines()[0])
    assert out["findings"][0]["type"] == "unreadable"
    assert main(["scan", "analyze", str(tmp_path / "missing.png")]) == 2
