"""OpenCV Haar-cascade pre-filter: a cheap "is there any face-like region?" test.

Used on video/gate frames to skip the (slower) dlib detector on frames with nobody in them.
It is a *pre-filter*, tuned for recall (few misses, many false candidates); the detector
behind it decides. The cascade XML files ship in the opencv wheel (``cv2.data.haarcascades``).
"""

from __future__ import annotations

import os
import threading

import cv2
import numpy as np
import numpy.typing as npt

DEFAULT_CASCADE = "haarcascade_frontalface_default.xml"
_WORK_SIDE = 480  # run on a small grey copy: the cascade's cost grows with pixel count


def cascade_path(name: str = DEFAULT_CASCADE) -> str:
    """Path of a cascade bundled with OpenCV; ``FileNotFoundError`` if it is not there."""
    path = os.path.join(cv2.data.haarcascades, name)  # type: ignore[attr-defined]
    if not os.path.isfile(path):
        raise FileNotFoundError(f"OpenCV cascade {name} not found in {cv2.data.haarcascades}")  # type: ignore[attr-defined]
    return path


class HaarPrefilter:
    """Face-candidate boxes from a Haar cascade, for RGB (or grey) uint8 images.

    ``min_neighbors`` 3 and ``min_rel_size`` 0.05 (of the shorter side) favour recall.
    """

    def __init__(self, cascade: str = DEFAULT_CASCADE, *, scale_factor: float = 1.1,
                 min_neighbors: int = 3, min_rel_size: float = 0.05) -> None:
        if scale_factor <= 1.0:
            raise ValueError(f"scale_factor must be > 1, got {scale_factor}")
        if min_neighbors < 0:
            raise ValueError(f"min_neighbors must be >= 0, got {min_neighbors}")
        if not 0.0 < min_rel_size < 1.0:
            raise ValueError(f"min_rel_size must be in (0, 1), got {min_rel_size}")
        self._classifier = cv2.CascadeClassifier(cascade_path(cascade))
        if self._classifier.empty():
            raise ValueError(f"OpenCV could not load cascade {cascade}")
        self.scale_factor, self.min_neighbors = scale_factor, min_neighbors
        self.min_rel_size = min_rel_size
        self._lock = threading.Lock()  # CascadeClassifier is not safe to share across threads

    def candidates(self, image: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """Candidate boxes, float32 ``[N, 4]`` xyxy in ``image`` pixels."""
        if image.dtype != np.uint8 or image.ndim not in (2, 3):
            raise ValueError(f"image must be uint8 [H, W] or [H, W, 3], got {image.dtype} "
                             f"{image.shape}")
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
        h, w = grey.shape
        shrink = min(1.0, _WORK_SIDE / max(h, w))
        if shrink < 1.0:
            grey = cv2.resize(grey, (max(1, round(w * shrink)), max(1, round(h * shrink))),
                              interpolation=cv2.INTER_AREA)
        grey = cv2.equalizeHist(grey)
        side = max(12, round(self.min_rel_size * min(grey.shape)))
        with self._lock:
            found = self._classifier.detectMultiScale(
                grey, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
                minSize=(side, side))
        rects = np.asarray(found, dtype=np.float32).reshape(-1, 4)
        boxes = np.concatenate([rects[:, :2], rects[:, :2] + rects[:, 2:]], axis=1)
        out: npt.NDArray[np.float32] = (boxes / np.float32(shrink)).astype(np.float32)
        return out

    def has_candidate(self, image: npt.NDArray[np.uint8]) -> bool:
        return len(self.candidates(image)) > 0
