from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from kouan.domain import (
    Capture,
    Declaration,
    Detection,
    Finding,
    FindingType,
    Modality,
    Severity,
)
from kouan.domain.schema import domain_json_schemas, write_json_schemas

SHA = "a" * 64


def test_valid_finding_round_trips_through_json() -> None:
    f = Finding(case_id="psg-1", type=FindingType.THREAT, severity=Severity.HIGH,
                explanation="knife-shaped metal in bag", port_id="ERENHOT",
                detections=[Detection(label="knife", score=0.91, box=(10, 20, 50, 80))],
                evidence=[SHA])
    again = Finding.model_validate_json(f.model_dump_json())
    assert again == f


@pytest.mark.parametrize(
    ("model", "data", "needle"),
    [
        (Detection, {"label": "gun", "score": 1.5}, "less than or equal to 1"),
        (Detection, {"label": "gun", "score": 0.5, "box": [10, 10, 5, 20]}, "x2 > x1"),
        (Capture, {"modality": "xray_dual_energy", "object_sha256": "xyz"}, "sha256"),
        (Capture, {"modality": "plate_camera", "object_sha256": SHA, "depth": 3}, "ct_volume"),
        (Capture, {"modality": "sonar", "object_sha256": SHA}, "modality"),
        (Capture, {"modality": "plate_camera", "object_sha256": SHA,
                   "captured_at": "2026-11-30T08:00:00"}, "timezone"),
        (Declaration, {"plate": "蒙A12345", "container_numbers": ["MSCU12345"]}, "ISO 6346"),
        (Declaration, {"plate": "蒙A12345", "declared_empty": True,
                       "goods": [{"hs_code": "870899", "description": "parts"}]}, "declared_empty"),
        (Declaration, {"plate": "蒙A12345", "goods": [{"hs_code": "87a", "description": "x"}]},
         "hs_code"),
        (Declaration, {"plate": "蒙A12345", "colour": "blue"}, "Extra inputs"),
        (Finding, {"case_id": "../etc", "type": "threat", "severity": "high",
                   "explanation": "x", "port_id": "P"}, "id must be"),
    ],
)
def test_malformed_objects_are_rejected_with_a_reason(model: type, data: dict, needle: str) -> None:
    with pytest.raises(ValidationError) as err:
        model.model_validate(data)
    assert needle in str(err.value)


def test_every_modality_is_a_capture_modality() -> None:
    assert {m.value for m in Modality} == {
        "xray_dual_energy", "xray_single_energy", "backscatter", "ct_volume", "plate_camera",
        "container_camera", "face_camera", "patrol_video"}


def test_json_schema_export(tmp_path: Path) -> None:
    schemas = domain_json_schemas()
    assert {"Port", "Lane", "Device", "Capture", "Declaration", "Passage", "Detection",
            "Finding", "ReviewItem", "Alarm", "EvidenceRecord"} <= set(schemas)
    paths = write_json_schemas(tmp_path)
    finding = json.loads((tmp_path / "Finding.schema.json").read_text())
    assert finding["additionalProperties"] is False
    assert "severity" in finding["required"]
    assert len(paths) == len(schemas)
