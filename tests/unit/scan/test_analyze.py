"""ScanAnalyzer at the detector seam: the three finding kinds, CT and unreadable captures,
deterministic ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from kouan.domain import FindingType, Severity
from pipelines.scan.analyze import ScanAnalyzer, ScanResult
from pipelines.scan.cargo import CargoCalibration
from pipelines.scan.decode import scan_refs
from tests.unit.scan.conftest import FakeDetector


def _analyze(samples: Path, detector: FakeDetector) -> dict[str, ScanResult]:
    refs = scan_refs(sorted(samples.iterdir()))
    return {r.ref.name: r for r in ScanAnalyzer(detector, CargoCalibration.load(),
                                                "ERENHOT").analyze(refs)}


def test_every_kind_of_scan(scan_samples: Path, fake_detector: FakeDetector) -> None:
    res = _analyze(scan_samples, fake_detector)
    bag = res["bag_0"]
    assert fake_detector.calls == 1  # the two bags went to the detector in one batch
    assert bag.threat_score == pytest.approx(0.8) and bag.detections[0]["label"] == "handgun"
    assert bag.detections[0]["material"] in ("organic", "inorganic", "metal", "background")
    (f,) = bag.findings
    assert f.type is FindingType.THREAT and f.severity is Severity.HIGH
    assert f.id == f"fnd-{bag.case_id[5:]}-threat" and f.detections[0].label == "handgun"
    js = bag.to_json()
    assert set(js) >= {"file", "modality", "detections", "threat_score", "findings"}

    kinds = {n: [f.type for f in r.findings] for n, r in res.items()}
    assert kinds["cargo_empty_ok"] == []
    assert kinds["cargo_empty_loaded"] == [FindingType.EMPTY_CONTAINER_NOT_EMPTY]
    assert kinds["cargo_mismatch"] == [FindingType.MANIFEST_MISMATCH]
    assert kinds["cargo_match"] == []
    assert res["cargo_mismatch"].threat_score is None  # no baggage model on trucks
    # the same truck under two declarations is two cases
    assert res["cargo_mismatch"].case_id != res["cargo_match"].case_id
    ct = res["ct_0"]
    assert ct.modality == "ct_volume" and ct.reviewer_png
    if ct.findings:
        assert "CT segmentation" in ct.findings[0].explanation
    bad = res["corrupt"]
    assert bad.error and [f.type for f in bad.findings] == [FindingType.UNREADABLE]
    assert "truncated PNG" in bad.findings[0].explanation


def test_ids_are_stable(scan_samples: Path, fake_detector: FakeDetector) -> None:
    a = _analyze(scan_samples, fake_detector)
    b = _analyze(scan_samples, fake_detector)
    assert [f.id for r in a.values() for f in r.findings] == \
        [f.id for r in b.values() for f in r.findings]
