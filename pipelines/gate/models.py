"""The gate's answer types (JSON over the API, stored as evidence, printed by the CLI).

Boxes are pixel ``[x1, y1, x2, y2]`` in the frame of the image they were found in; confidences
are in [0, 1]; ``image`` names the uploaded file (its form file name, or ``plate_image[i]``).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Decision(StrEnum):
    CLEAR = "clear"  # everything read matches the declaration
    HOLD = "hold"  # something read contradicts the declaration: stop, a reviewer decides
    INSPECT = "inspect"  # something could not be read: an officer checks by eye


class PlateOut(_Out):
    image: str
    plate: str | None = Field(description="grammar-valid reading, None when no plate was found")
    confidence: float = Field(ge=0, le=1, description="weakest character's confidence")
    char_confidence: list[float] = Field(default_factory=list)
    box: list[float] | None = Field(default=None, description="pixel x1, y1, x2, y2")
    type: str | None = Field(default=None, description="e.g. cn_blue, cn_yellow_double, "
                             "cn_green_new_energy, mn_one_row")
    colour: str | None = None
    country: str | None = Field(default=None, description="CN or MN")


class ContainerOut(_Out):
    code: str
    check_digit_ok: bool | None = Field(description="True read and valid; None check digit "
                                        "not visible (computed); False read but invalid")
    size_type: str | None = None
    size_type_description: str | None = None
    confidence: float = Field(ge=0, le=1)
    support: int = Field(ge=0, description="readings (images) that agree on this code")
    images: list[str] = Field(default_factory=list)


class FieldMatch(_Out):
    field: str = Field(description="plate, trailer_plate, container[i] or undeclared_container")
    declared: str | None
    read: str | None
    outcome: str = Field(description="match, mismatch or unreadable")
    explanation: str
    distance: float | None = None


class MatchOut(_Out):
    outcome: str = Field(description="mismatch if any field mismatches, else unreadable if any "
                         "field is unreadable, else match")
    fields: list[FieldMatch]


class PassageAnswer(_Out):
    passage_id: str
    lane_id: str | None = None
    plates: list[PlateOut]
    containers: list[ContainerOut]
    match: MatchOut
    decision: Decision
    reasons: list[str]
    finding_ids: list[str] = Field(default_factory=list)
    alarm_ids: list[str] = Field(default_factory=list)
    skipped_images: list[str] = Field(default_factory=list,
                                      description="not processed within the time budget")
    elapsed_ms: float
    evidence: dict[str, str] = Field(default_factory=dict,
                                     description="image name -> sha256 of the stored capture")
