"""OpenCV's bundled HOG + linear-SVM people detector (Dalal-Triggs, INRIA-trained, 64x128).

Two ways to use it:

- :meth:`HogPeopleDetector.detect`: the classic full-frame multi-scale sliding window. Slow
  (~200 ms for 768x432 on one core) and, on high-mounted cameras, it misses people seen from
  above or cut by the frame edge.
- :meth:`HogPeopleDetector.verify`: run the window only around motion blobs, each crop rescaled
  so that the blob is about as tall as the person in the INRIA window (96 of 128 px). This is
  ~10x cheaper and is how the analyzer labels blobs as ``person``.

Scores: the SVM margin ``w`` is mapped to ``[0, 1]`` with ``1 / (1 + exp(-2 w))``.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

from vision.video.geometry import box_iou
from vision.video.types import PERSON, Detections

U8Image = npt.NDArray[np.uint8]
_WIN_H = 128
_PERSON_H = 96  # person height inside the INRIA 64x128 window


def _score(w: float) -> float:
    return 1.0 / (1.0 + math.exp(-2.0 * w))


class HogPeopleDetector:
    """``threshold``: minimum SVM margin for a hit (0 = OpenCV's default decision)."""

    def __init__(self, threshold: float = 0.0, stride: int = 8, scale: float = 1.05) -> None:
        if stride not in (4, 8, 16) or scale <= 1.0:
            raise ValueError("stride must be 4, 8 or 16 and scale > 1")
        self.threshold = threshold
        self.stride = stride
        self.scale = scale
        self._hog = cv2.HOGDescriptor()
        svm = np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), dtype=np.float32)
        self._hog.setSVMDetector(svm)

    def _run(self, img: U8Image) -> tuple[list[tuple[float, float, float, float]], list[float]]:
        if img.shape[0] < _WIN_H or img.shape[1] < 64:
            return [], []
        rects, weights = self._hog.detectMultiScale(
            img, hitThreshold=self.threshold, winStride=(self.stride, self.stride),
            padding=(8, 8), scale=self.scale)
        boxes = [(float(x), float(y), float(x + w), float(y + h)) for x, y, w, h in rects]
        return boxes, [float(v) for v in np.ravel(weights)]

    def detect(self, frame: U8Image) -> Detections:
        """Full-frame detection on a BGR or grey ``uint8`` frame; boxes in frame pixels."""
        boxes, weights = self._run(frame)
        return Detections.from_lists(boxes, [_score(w) for w in weights], [PERSON] * len(boxes))

    def verify(self, frame: U8Image, boxes: npt.NDArray[np.float32],
               min_iou: float = 0.3) -> npt.NDArray[np.float32]:
        """Person score in ``[0, 1]`` for each candidate box (``float32 [N, 4]``, frame pixels);
        0 where no HOG window overlapping the box by ``min_iou`` fires."""
        h_img, w_img = frame.shape[:2]
        out = np.zeros((boxes.shape[0],), np.float32)
        for i, (x1, y1, x2, y2) in enumerate(boxes.tolist()):
            bh, bw = y2 - y1, x2 - x1
            if bh < 8 or bw < 4:
                continue
            s = _PERSON_H / bh  # resize factor that makes the blob person-sized in the window
            pad_y, pad_x = 0.25 * bh, max(0.5 * bh, bw) * 0.6
            cx1, cy1 = max(0, int(x1 - pad_x)), max(0, int(y1 - pad_y))
            cx2, cy2 = min(w_img, int(x2 + pad_x)), min(h_img, int(y2 + pad_y))
            crop = frame[cy1:cy2, cx1:cx2]
            if crop.size == 0:
                continue
            interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
            small = np.asarray(cv2.resize(crop, None, fx=s, fy=s, interpolation=interp),
                               dtype=np.uint8)
            if small.shape[0] < _WIN_H:  # blob touches the frame edge: pad to one window
                small = np.asarray(cv2.copyMakeBorder(small, 0, _WIN_H - small.shape[0], 0, 0,
                                                      cv2.BORDER_REPLICATE), dtype=np.uint8)
            if small.shape[1] < 64:
                small = np.asarray(cv2.copyMakeBorder(small, 0, 0, 0, 64 - small.shape[1],
                                                      cv2.BORDER_REPLICATE), dtype=np.uint8)
            hits, weights = self._run(small)
            target = ((x1 - cx1) * s, (y1 - cy1) * s, (x2 - cx1) * s, (y2 - cy1) * s)
            best = 0.0
            for hb, w in zip(hits, weights, strict=True):
                if box_iou(hb, target) >= min_iou:
                    best = max(best, _score(w))
            out[i] = best
        return out
