"""Tunable knobs of the face pipeline (a pydantic job config; unknown keys are an error)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from kouan.config import Settings
from vision.faces.embeddings import DLIB_REFERENCE_THRESHOLD


class FaceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    match_threshold: float = Field(
        default=DLIB_REFERENCE_THRESHOLD, gt=0.0, lt=2.0,
        description="Euclidean embedding distance at or below which two faces are called the "
        "same person (1:1 verify and 1:N identify). Default: dlib's published 0.6; see "
        "docs/faces.md for the ROC on the real pairs.")
    detect_max_side: int = Field(default=1024, ge=160, le=4096,
                                 description="Longer side (px) of the image the detector sees.")
    min_face_px: int = Field(default=40, ge=20, le=1000,
                             description="Smallest face (original px) the detector must find.")
    min_enrol_face_px: int = Field(default=80, ge=20, le=2000,
                                   description="Enrolment photos need a face at least this big.")
    min_detection_score: float = Field(default=0.0, ge=-1.0, le=5.0,
                                       description="dlib HOG SVM margin a detection must reach.")
    dominant_ratio: float = Field(
        default=3.0, ge=1.0, le=100.0,
        description="Where one face is required and several are found, the largest is taken "
        "only if its area is at least this many times the next one's; else the input is refused.")
    max_faces: int = Field(default=32, ge=1, le=256, description="Faces kept per image.")


def face_config_from_settings(settings: Settings) -> FaceConfig:
    return FaceConfig(match_threshold=settings.face_match_threshold)
