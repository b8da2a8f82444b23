"""``FaceDetections``: the one interchange type for faces found in one image."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

N_LANDMARKS = 5
"""dlib's 5-point layout: 0 right-eye outer corner, 1 right-eye inner, 2 left-eye outer,
3 left-eye inner, 4 bottom of the nose ("right" = the subject's right = image left)."""


@dataclass(frozen=True)
class FaceDetections:
    """Faces in one image, in that image's pixel frame (x right, y down).

    * ``boxes``: float32 ``[N, 4]`` xyxy;
    * ``scores``: float32 ``[N]`` detector confidence (dlib HOG SVM margin; > 0 means a face);
    * ``landmarks``: float32 ``[N, 5, 2]`` (x, y) in dlib's 5-point order (see
      :data:`N_LANDMARKS`).
    """

    boxes: npt.NDArray[np.float32]
    scores: npt.NDArray[np.float32]
    landmarks: npt.NDArray[np.float32]

    def __post_init__(self) -> None:
        n = self.boxes.shape[0] if self.boxes.ndim == 2 else -1
        if self.boxes.ndim != 2 or self.boxes.shape[1] != 4:
            raise ValueError(f"boxes must be [N, 4], got {self.boxes.shape}")
        if self.scores.shape != (n,):
            raise ValueError(f"scores must be [{n}], got {self.scores.shape}")
        if self.landmarks.shape != (n, N_LANDMARKS, 2):
            raise ValueError(f"landmarks must be [{n}, {N_LANDMARKS}, 2], "
                             f"got {self.landmarks.shape}")
        for name in ("boxes", "scores", "landmarks"):
            if getattr(self, name).dtype != np.float32:
                raise ValueError(f"{name} must be float32, got {getattr(self, name).dtype}")
        if n and not np.all(self.boxes[:, 2:] > self.boxes[:, :2]):
            raise ValueError("boxes must be xyxy with x2 > x1 and y2 > y1")

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    @classmethod
    def empty(cls) -> FaceDetections:
        return cls(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32),
                   np.zeros((0, N_LANDMARKS, 2), np.float32))

    def scaled(self, factor: float) -> FaceDetections:
        """Coordinates multiplied by ``factor`` (e.g. back from a downscaled detection image)."""
        if factor <= 0:
            raise ValueError(f"scale factor must be > 0, got {factor}")
        f = np.float32(factor)
        return FaceDetections(self.boxes * f, self.scores.copy(), self.landmarks * f)

    def select(self, keep: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> FaceDetections:
        """The subset picked by a boolean mask or an index array."""
        return FaceDetections(self.boxes[keep], self.scores[keep], self.landmarks[keep])

    def by_score(self) -> FaceDetections:
        """Sorted by descending score."""
        return self.select(np.argsort(-self.scores, kind="stable"))

    def sides(self) -> npt.NDArray[np.float32]:
        """Face size in pixels: ``sqrt(w * h)`` of each box, float32 ``[N]``."""
        wh = self.boxes[:, 2:] - self.boxes[:, :2]
        out: npt.NDArray[np.float32] = np.sqrt(wh[:, 0] * wh[:, 1]).astype(np.float32)
        return out
