"""Domain model shared by every door into Kouan (gate API, review UI, evidence, training).

Conventions:
- ids are opaque strings (``[A-Za-z0-9._:-]``, 1-128 chars) so they can be used in S3 keys and
  NATS subjects without escaping;
- times are timezone-aware UTC ``datetime``;
- boxes are pixel ``xyxy`` in the coordinate frame of the referenced capture (x right, y down);
- hashes are lowercase hex sha256 of the stored bytes.
All models forbid unknown fields so a typo in a client's JSON is a clear 4xx, not a silent drop.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_HS_RE = re.compile(r"^\d{4}(\d{2}){0,3}$")


def _check_id(v: str) -> str:
    if not _ID_RE.match(v) or v in {".", ".."}:
        raise ValueError("id must be 1-128 characters of A-Z a-z 0-9 . _ : -")
    return v


def _check_sha256(v: str) -> str:
    if not _SHA256_RE.match(v):
        raise ValueError("must be 64 lowercase hex characters (sha256)")
    return v


def _check_aware(v: datetime) -> datetime:
    if v.tzinfo is None:
        raise ValueError("datetime must carry a timezone (use UTC, e.g. 2026-11-30T08:00:00Z)")
    return v.astimezone(UTC)


Id = Annotated[str, AfterValidator(_check_id)]
Sha256 = Annotated[str, AfterValidator(_check_sha256)]
UtcTime = Annotated[datetime, AfterValidator(_check_aware)]


def new_id(prefix: str) -> str:
    """A fresh, sortable-enough id such as ``fnd-3f2c...`` (prefix + 24 hex chars)."""
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


def utcnow() -> datetime:
    return datetime.now(UTC)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Modality(StrEnum):
    XRAY_DUAL_ENERGY = "xray_dual_energy"
    XRAY_SINGLE_ENERGY = "xray_single_energy"
    BACKSCATTER = "backscatter"
    CT_VOLUME = "ct_volume"
    PLATE_CAMERA = "plate_camera"
    CONTAINER_CAMERA = "container_camera"
    FACE_CAMERA = "face_camera"
    PATROL_VIDEO = "patrol_video"


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class LaneKind(StrEnum):
    ROAD_CARGO = "road_cargo"
    ROAD_PASSENGER = "road_passenger"
    RAIL = "rail"
    PEDESTRIAN = "pedestrian"
    STAFF_GATE = "staff_gate"
    PERIMETER = "perimeter"


class Port(_Model):
    """A land border port, e.g. ``ERENHOT`` (二连浩特) facing Zamyn-Üüd."""

    id: Id
    name: str = Field(min_length=1, max_length=200)
    country: str = Field(default="CN", pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    neighbour_country: str | None = Field(default="MN", pattern=r"^[A-Z]{2}$")
    timezone: str = "Asia/Shanghai"


class Lane(_Model):
    id: Id
    port_id: Id
    kind: LaneKind
    direction: str = Field(default="inbound", pattern=r"^(inbound|outbound)$")
    time_budget_ms: int = Field(default=3000, gt=0, le=120_000,
                                description="How long the gate may wait for an answer.")


class Device(_Model):
    """A sensor: scanner, camera, robot."""

    id: Id
    lane_id: Id | None = None
    modality: Modality
    vendor: str | None = None
    model: str | None = None
    serial: str | None = None


class Capture(_Model):
    """One stored sensor capture (an image, a volume or a clip) referenced by content hash."""

    id: Id = Field(default_factory=lambda: new_id("cap"))
    device_id: Id | None = None
    lane_id: Id | None = None
    modality: Modality
    captured_at: UtcTime = Field(default_factory=utcnow)
    object_sha256: Sha256
    media_type: str = Field(default="application/octet-stream", max_length=100)
    width: int | None = Field(default=None, gt=0, description="pixels")
    height: int | None = Field(default=None, gt=0, description="pixels")
    depth: int | None = Field(default=None, gt=0, description="slices (CT volumes only)")
    bits: int = Field(default=8, description="bits per sample: 8 or 16")
    meta: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_shape(self) -> Capture:
        if self.bits not in (8, 16, 32):
            raise ValueError("bits must be 8, 16 or 32")
        if self.depth is not None and self.modality is not Modality.CT_VOLUME:
            raise ValueError("depth is only meaningful for ct_volume captures")
        return self


class DeclaredGoods(_Model):
    hs_code: str = Field(description="Harmonized System code, 4-10 digits, e.g. 870899")
    description: str = Field(min_length=1, max_length=500)
    quantity: float | None = Field(default=None, ge=0)
    unit: str | None = None
    gross_kg: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _check_hs(self) -> DeclaredGoods:
        if not _HS_RE.match(self.hs_code):
            raise ValueError(f"hs_code {self.hs_code!r} must be 4, 6, 8 or 10 digits")
        return self


class Declaration(_Model):
    """Pre-arrival data (车辆信息预报) a carrier files before the truck reaches the gate."""

    id: Id = Field(default_factory=lambda: new_id("dec"))
    plate: str = Field(min_length=2, max_length=16, description="tractor plate, e.g. 蒙A12345")
    trailer_plate: str | None = Field(default=None, min_length=2, max_length=16)
    container_numbers: list[str] = Field(default_factory=list, max_length=4,
                                         description="ISO 6346 codes, e.g. MSCU1234565")
    goods: list[DeclaredGoods] = Field(default_factory=list)
    declared_empty: bool = False

    @model_validator(mode="after")
    def _check_empty(self) -> Declaration:
        if self.declared_empty and self.goods:
            raise ValueError("a declaration cannot be declared_empty and list goods")
        for c in self.container_numbers:
            if not re.match(r"^[A-Z]{3}[UJZ]\d{7}$", c):
                raise ValueError(f"container number {c!r} must look like ABCU1234567 (ISO 6346)")
        return self


class Passage(_Model):
    """A vehicle, train or person passing a lane: the unit a gate decision is made on."""

    id: Id = Field(default_factory=lambda: new_id("psg"))
    lane_id: Id
    started_at: UtcTime = Field(default_factory=utcnow)
    declaration: Declaration | None = None
    capture_ids: list[Id] = Field(default_factory=list)


class Detection(_Model):
    """One model output on one capture: a box (pixel xyxy), a label and a score in [0, 1]."""

    label: str = Field(min_length=1, max_length=100)
    score: float = Field(ge=0.0, le=1.0)
    box: tuple[float, float, float, float] | None = Field(
        default=None, description="pixel x1, y1, x2, y2 in the capture frame")
    text: str | None = Field(default=None, description="recognised text (plates, codes)")

    @model_validator(mode="after")
    def _check_box(self) -> Detection:
        if self.box is not None:
            x1, y1, x2, y2 = self.box
            if not (x2 > x1 and y2 > y1):
                raise ValueError(f"box {self.box} must be xyxy with x2 > x1 and y2 > y1")
        return self


class ModelRef(_Model):
    name: str = Field(min_length=1, max_length=128)
    version: str = Field(min_length=1, max_length=32)


class FindingType(StrEnum):
    THREAT = "threat"
    CONCEALMENT = "concealment"
    MANIFEST_MISMATCH = "manifest_mismatch"
    EMPTY_CONTAINER_NOT_EMPTY = "empty_container_not_empty"
    PLATE_MISMATCH = "plate_mismatch"
    CONTAINER_MISMATCH = "container_mismatch"
    UNREADABLE = "unreadable"
    WATCHLIST_HIT = "watchlist_hit"
    STAFF_VERIFICATION_FAILED = "staff_verification_failed"
    ZONE_INTRUSION = "zone_intrusion"
    TRIPWIRE = "tripwire"
    LOITERING = "loitering"
    ABANDONED_OBJECT = "abandoned_object"


class Finding(_Model):
    """Something a model or rule concluded that a person may need to act on."""

    id: Id = Field(default_factory=lambda: new_id("fnd"))
    case_id: Id = Field(description="the passage, scan or video event this belongs to")
    type: FindingType
    severity: Severity
    explanation: str = Field(min_length=1, max_length=4000)
    port_id: Id
    lane_id: Id | None = None
    modality: Modality | None = None
    detections: list[Detection] = Field(default_factory=list)
    evidence: list[Sha256] = Field(default_factory=list, description="object hashes")
    model: ModelRef | None = None
    created_at: UtcTime = Field(default_factory=utcnow)


class ReviewStatus(StrEnum):
    QUEUED = "queued"
    CLAIMED = "claimed"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"
    ESCALATED = "escalated"


class ReviewDecision(StrEnum):
    CONFIRM = "confirm"
    DISMISS = "dismiss"
    ESCALATE = "escalate"


class ReviewItem(_Model):
    id: Id = Field(default_factory=lambda: new_id("rev"))
    finding_id: Id
    status: ReviewStatus = ReviewStatus.QUEUED
    claimed_by: str | None = None
    lease_expires_at: UtcTime | None = None
    decided_by: str | None = None
    decided_at: UtcTime | None = None
    reason_code: str | None = None
    notes: str | None = Field(default=None, max_length=4000)


class Alarm(_Model):
    """What goes on the alarm bus; ``id`` doubles as the NATS ``Nats-Msg-Id`` for de-duplication."""

    id: Id = Field(default_factory=lambda: new_id("alm"))
    finding_id: Id
    port_id: Id
    lane_id: Id | None = None
    severity: Severity
    type: FindingType
    summary: str = Field(min_length=1, max_length=1000)
    created_at: UtcTime = Field(default_factory=utcnow)


class EvidenceEvent(StrEnum):
    CAPTURE_STORED = "capture_stored"
    INFERENCE = "inference"
    FINDING = "finding"
    REVIEW_DECISION = "review_decision"
    ALARM_PUBLISHED = "alarm_published"
    ALARM_ACKNOWLEDGED = "alarm_acknowledged"


class EvidenceRecord(_Model):
    """One ledger entry as auditors see it: hash-chained and Ed25519-signed."""

    seq: int = Field(ge=0)
    event: EvidenceEvent
    case_id: Id
    at: UtcTime
    payload: dict[str, Any] = Field(default_factory=dict)
    prev_hash: Sha256
    entry_hash: Sha256
    signature: str = Field(description="base64 Ed25519 signature over entry_hash")


DOMAIN_MODELS: tuple[type[BaseModel], ...] = (
    Port, Lane, Device, Capture, DeclaredGoods, Declaration, Passage, Detection, ModelRef,
    Finding, ReviewItem, Alarm, EvidenceRecord,
)
