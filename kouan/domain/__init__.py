"""Domain types (pydantic) and their JSON Schema export."""

from kouan.domain.models import (
    DOMAIN_MODELS,
    Alarm,
    Capture,
    Declaration,
    DeclaredGoods,
    Detection,
    Device,
    EvidenceEvent,
    EvidenceRecord,
    Finding,
    FindingType,
    Lane,
    LaneKind,
    Modality,
    ModelRef,
    Passage,
    Port,
    ReviewDecision,
    ReviewItem,
    ReviewStatus,
    Severity,
    new_id,
    utcnow,
)

__all__ = [
    "DOMAIN_MODELS", "Alarm", "Capture", "Declaration", "DeclaredGoods", "Detection", "Device",
    "EvidenceEvent", "EvidenceRecord", "Finding", "FindingType", "Lane", "LaneKind", "Modality",
    "ModelRef", "Passage", "Port", "ReviewDecision", "ReviewItem", "ReviewStatus", "Severity",
    "new_id", "utcnow",
]
