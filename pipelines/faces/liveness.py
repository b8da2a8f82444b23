"""Liveness check on one or more frames of the same person (see :mod:`vision.faces.liveness`
for the cues and their limits). Advisory: the answer says which cue fired; callers decide."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import cv2
import numpy as np

from pipelines.faces.analyze import FaceAnalyzer, FaceInputError
from vision.faces.liveness import (
    LivenessThresholds,
    decide,
    face_patch,
    motion_cue,
    spectral_cues,
)

MAX_FRAMES = 16


class LivenessChecker:
    def __init__(self, analyzer: FaceAnalyzer,
                 thresholds: LivenessThresholds | None = None) -> None:
        self.analyzer = analyzer
        self.thresholds = thresholds or LivenessThresholds()

    def check(self, frames: list[tuple[str, bytes]]) -> dict[str, Any]:
        """``frames``: (name, image bytes), 1-16 frames of one person in time order. The
        texture cue uses the first frame; two or more frames add the motion cue (largest
        face per frame). Raises :class:`FaceInputError` when a frame has no face."""
        if not 1 <= len(frames) <= MAX_FRAMES:
            raise FaceInputError(f"liveness needs 1-{MAX_FRAMES} frames, got {len(frames)}")
        marks = []
        texture = None
        for i, (name, data) in enumerate(frames):
            rgb = self.analyzer.decode(data, name)
            dets = self.analyzer.detect(rgb)
            if not len(dets):
                raise FaceInputError(f"{name}: no face found")
            k = int(np.argmax(dets.sides()))
            marks.append(dets.landmarks[k])
            if i == 0:
                grey = np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
                x1, y1, x2, y2 = (float(v) for v in dets.boxes[k])
                texture = spectral_cues(face_patch(grey, (x1, y1, x2, y2)))
        motion = motion_cue(np.stack(marks)) if len(marks) >= 2 else None
        result = decide(texture, motion, self.thresholds)
        return {"live": result.live, "reasons": list(result.reasons), "cues": result.cues,
                "frames": len(frames), "thresholds": asdict(self.thresholds),
                "advisory": "basic cues with measured limits (docs/faces.md); not a certified "
                            "presentation-attack detector"}
