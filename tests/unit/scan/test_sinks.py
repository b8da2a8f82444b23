"""Sinks: review queue + alarms + evidence, idempotent on re-ingest."""

from __future__ import annotations

from pathlib import Path

from kouan.domain import EvidenceEvent
from kouan.services import Services
from pipelines.scan.analyze import ScanAnalyzer
from pipelines.scan.cargo import CargoCalibration
from pipelines.scan.decode import scan_refs
from pipelines.scan.sinks import write_results
from tests.unit.scan.conftest import FakeDetector


def test_write_twice_stores_once(scan_samples: Path, services: Services,
                                 fake_detector: FakeDetector) -> None:
    refs = [r for r in scan_refs(sorted(scan_samples.iterdir()))
            if r.name in ("bag_0", "cargo_empty_loaded", "corrupt")]
    results = ScanAnalyzer(fake_detector, CargoCalibration.load(), "ERENHOT").analyze(refs)
    first = write_results(services, results)
    assert first.new_cases == 3 and first.findings == 3 and first.unreadable == 1
    assert first.alarms == 2  # handgun (high) and a red empty container (high)
    n_items = services.queue.count()
    assert n_items == 3
    bag = next(r for r in results if r.ref.name == "bag_0")
    events = [r.event for r in services.evidence.case(bag.case_id)["records"]]
    assert events.count(EvidenceEvent.CAPTURE_STORED) == 1
    assert events.count(EvidenceEvent.INFERENCE) == 1
    corrupt = next(r for r in results if r.ref.name == "corrupt")
    rec = services.evidence.case(corrupt.case_id)["records"][0]
    assert rec.payload["meta"]["quarantined"] is True

    again = write_results(services, results)
    assert again.skipped_known == 3 and again.new_cases == 0
    assert services.queue.count() == n_items
    events2 = [r.event for r in services.evidence.case(bag.case_id)["records"]]
    assert events2.count(EvidenceEvent.CAPTURE_STORED) == 1
    assert services.relay.relay_once().published == 2
