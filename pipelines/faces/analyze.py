"""Image bytes -> faces with boxes, landmarks and embeddings (the shared first step).

decode (format sniffed, limits checked) -> downscaled copy for the detector (Triton
``face_detector``) -> detections mapped back to full resolution -> 5-point chips cut from the
full-resolution image (:mod:`vision.faces.align`) -> embeddings (Triton ``face_embedder``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from kouan.errors import UsageError
from pipelines.faces.config import FaceConfig
from pipelines.faces.models import FaceModels
from vision.faces.align import extract_chips
from vision.faces.decode import ImageDecodeError, decode_rgb, sniff_format
from vision.faces.detect_prep import detection_input
from vision.faces.types import FaceDetections


class FaceInputError(UsageError):
    """The image cannot be used: not an image, out of limits, no face, several faces."""


@dataclass(frozen=True)
class Face:
    """One face: ``box`` xyxy and ``landmarks`` ``[5, 2]`` in original-image pixels,
    ``det_score`` (HOG margin), ``embedding`` float32 ``[128]``."""

    box: tuple[float, float, float, float]
    det_score: float
    landmarks: npt.NDArray[np.float32]
    embedding: npt.NDArray[np.float32]

    @property
    def side(self) -> float:
        """sqrt(width * height) of the box, pixels."""
        return float(np.sqrt((self.box[2] - self.box[0]) * (self.box[3] - self.box[1])))

    def box_json(self) -> list[float]:
        return [round(v, 1) for v in self.box]


@dataclass(frozen=True)
class AnalyzedImage:
    width: int
    height: int
    format: str
    faces: list[Face] = field(default_factory=list)
    rgb: npt.NDArray[np.uint8] | None = field(default=None, repr=False)


class FaceAnalyzer:
    """Runs the face models on images; holds no state besides its models and config."""

    def __init__(self, models: FaceModels, config: FaceConfig | None = None) -> None:
        self.models = models
        self.config = config or FaceConfig()

    def decode(self, data: bytes, name: str = "image") -> npt.NDArray[np.uint8]:
        try:
            return decode_rgb(data)
        except ImageDecodeError as exc:
            raise FaceInputError(f"{name}: {exc}") from None

    def detect(self, rgb: npt.NDArray[np.uint8]) -> FaceDetections:
        """Faces in full-resolution pixels, best first, at most ``max_faces``."""
        cfg = self.config
        prep = detection_input(rgb, cfg.detect_max_side, cfg.min_face_px)
        dets = self.models.detect(prep.image, prep.upsample)
        dets = dets.select(dets.scores >= cfg.min_detection_score).by_score()
        dets = dets.select(np.arange(min(len(dets), cfg.max_faces)))
        return dets.scaled(prep.scale) if prep.scale != 1.0 else dets

    def analyze_rgb(self, rgb: npt.NDArray[np.uint8], fmt: str = "array",
                    keep_rgb: bool = False) -> AnalyzedImage:
        dets = self.detect(rgb)
        faces: list[Face] = []
        if len(dets):
            emb = self.models.embed(extract_chips(rgb, dets.landmarks))
            for i in range(len(dets)):
                x1, y1, x2, y2 = (float(v) for v in dets.boxes[i])
                faces.append(Face((x1, y1, x2, y2), float(dets.scores[i]),
                                  dets.landmarks[i].copy(), emb[i].copy()))
        h, w = rgb.shape[:2]
        return AnalyzedImage(w, h, fmt, faces, rgb if keep_rgb else None)

    def analyze(self, data: bytes, name: str = "image", keep_rgb: bool = False) -> AnalyzedImage:
        """All faces in an encoded image; :class:`FaceInputError` if it cannot be decoded."""
        rgb = self.decode(data, name)
        return self.analyze_rgb(rgb, sniff_format(data) or "unknown", keep_rgb)

    def one_face(self, data: bytes, name: str = "image", *,
                 min_side: float | None = None) -> tuple[Face, AnalyzedImage]:
        """The single face an enrolment/verification image must show; refuse the image when
        there is none, when several are similar in size, or when it is smaller than
        ``min_side`` pixels."""
        analyzed = self.analyze(data, name)
        return pick_one_face(analyzed, name, self.config.dominant_ratio, min_side), analyzed


def pick_one_face(analyzed: AnalyzedImage, name: str, dominant_ratio: float,
                  min_side: float | None = None) -> Face:
    faces = analyzed.faces
    if not faces:
        raise FaceInputError(f"{name}: no face found ({analyzed.width}x{analyzed.height} "
                             f"{analyzed.format}; faces must be frontal and >= ~40 px)")
    ranked = sorted(faces, key=lambda f: f.side, reverse=True)
    if len(ranked) > 1 and ranked[0].side**2 < dominant_ratio * ranked[1].side**2:
        raise FaceInputError(f"{name}: {len(ranked)} faces found where one is required "
                             f"(crop the image to one person)")
    face = ranked[0]
    if min_side is not None and face.side < min_side:
        raise FaceInputError(f"{name}: the face is {face.side:.0f} px; at least {min_side:.0f} px "
                             f"is required")
    return face


def face_json(face: Face, **extra: Any) -> dict[str, Any]:
    return {"box": face.box_json(), "det_score": round(face.det_score, 3), **extra}
