"""Empty-container verification and manifest consistency on generated truck scans."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipelines.scan.cargo import (
    CargoCalibration,
    CargoRegionError,
    check_manifest,
    container_box,
    load_signature,
    verify_empty,
)
from pipelines.scan.decode import decode_scan, scan_refs


@pytest.fixture(scope="module")
def cal() -> CargoCalibration:
    return CargoCalibration.load()


def _sig(samples: Path, name: str):  # type: ignore[no-untyped-def]
    ref = next(r for r in scan_refs(sorted(samples.iterdir())) if r.name == name)
    d = decode_scan(ref)
    return load_signature(d.low, d.high)  # type: ignore[arg-type]


def test_committed_calibration_is_sane(cal: CargoCalibration) -> None:
    assert 0 < cal.green_max < cal.red_min < 1
    assert {"27", "52", "85"} <= set(cal.centroids)
    test = cal.report["test"]
    assert test["empty"]["false_alarm_rate_non_green_on_empty"] <= 0.05
    assert test["manifest"]["mismatch_detection_rate"] >= 0.8


def test_empty_and_loaded_containers(scan_samples: Path, cal: CargoCalibration) -> None:
    empty = _sig(scan_samples, "cargo_empty_ok")
    coal = _sig(scan_samples, "cargo_empty_loaded")
    assert empty.load_fraction < 0.02 < coal.load_fraction
    assert verify_empty(empty, cal).colour == "green"
    v = verify_empty(coal, cal)
    assert v.colour == "red" and "declared empty" in v.explanation


def test_manifest_mismatch_explains_itself(scan_samples: Path, cal: CargoCalibration) -> None:
    coal = _sig(scan_samples, "cargo_mismatch")
    wrong = check_manifest(coal, "52", cal)
    assert wrong.mismatch and wrong.best == "27"
    assert "declared HS 52" in wrong.explanation and "HS 27" in wrong.explanation
    assert not check_manifest(coal, "27", cal).mismatch
    with pytest.raises(ValueError, match="no calibrated signature"):
        check_manifest(coal, "99", cal)


def test_no_container_is_a_clear_error() -> None:
    with pytest.raises(CargoRegionError):
        container_box(np.zeros((100, 300), np.float32))
