"""Pre- and post-processing for PP-OCR text detection (DB, "differentiable binarisation").

Model input ``x``: float32 ``[1, 3, H, W]``, BGR, ``(v / 255 - 0.5) / 0.5``, ``H`` and ``W``
multiples of 32. Output: float32 ``[1, 1, H, W]`` text probability map. Post-processing
thresholds the map, takes each connected region's minimum-area rectangle, scores it by the
mean probability inside, grows it by ``unclip_ratio`` (the DB "unclip"; for a rectangle the
polygon offset by ``d = area * ratio / perimeter`` is the rectangle grown by ``2d`` in width and
height, so no polygon-clipping library is needed) and maps it back to the input image.

Quads are float32 ``[4, 2]`` pixel ``(x, y)`` in the original image, ordered top-left,
top-right, bottom-right, bottom-left.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

Quad = npt.NDArray[np.float32]


def as_bgr(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """uint8 ``HxW``, ``HxWx1``, ``HxWx3`` (BGR) or ``HxWx4`` (BGRA) -> ``HxWx3`` BGR."""
    if image.dtype != np.uint8:
        raise ValueError(f"image must be uint8, got {image.dtype}")
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
        return np.asarray(cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2BGR),
                          dtype=np.uint8)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    if image.ndim == 3 and image.shape[2] == 4:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGRA2BGR), dtype=np.uint8)
    raise ValueError(f"image must be HxW, HxWx1, HxWx3 or HxWx4, got shape {image.shape}")


@dataclass(frozen=True)
class DetInput:
    """A prepared detector input and the factors that map map-pixels back to image pixels."""

    tensor: npt.NDArray[np.float32]  # [1, 3, H, W]
    scale_x: float  # original width / resized width
    scale_y: float
    image_shape: tuple[int, int]  # original (height, width)


@dataclass(frozen=True)
class TextBox:
    quad: Quad
    score: float

    @property
    def width(self) -> float:
        return float(np.linalg.norm(self.quad[1] - self.quad[0]))

    @property
    def height(self) -> float:
        return float(np.linalg.norm(self.quad[3] - self.quad[0]))

    def xyxy(self) -> tuple[float, float, float, float]:
        x, y = self.quad[:, 0], self.quad[:, 1]
        return float(x.min()), float(y.min()), float(x.max()), float(y.max())


def order_quad(points: npt.NDArray[Any]) -> Quad:
    """Order 4 points ``[4, 2]`` as top-left, top-right, bottom-right, bottom-left.

    Splits by x into the left and right pairs, then by y within each pair (robust for boxes
    tilted up to ~45 degrees, unlike the sum/difference trick on thin boxes).
    """
    pts = np.asarray(points, dtype=np.float32).reshape(-1, 2)
    if pts.shape != (4, 2):
        raise ValueError(f"need 4 points, got shape {pts.shape}")
    xs = pts[np.argsort(pts[:, 0], kind="stable")]
    left, right = xs[:2], xs[2:]
    tl, bl = left[np.argsort(left[:, 1], kind="stable")]
    tr, br = right[np.argsort(right[:, 1], kind="stable")]
    return np.array([tl, tr, br, bl], dtype=np.float32)


def det_preprocess(image: npt.NDArray[np.uint8], max_side: int = 960,
                   min_side: int = 32) -> DetInput:
    """Resize so the longer side is at most ``max_side`` (never up), round both sides to a
    multiple of 32 (at least ``min_side``), normalise to [-1, 1]. ``image``: uint8 BGR or grey."""
    if max_side < 32:
        raise ValueError(f"max_side must be >= 32, got {max_side}")
    bgr = as_bgr(image)
    h, w = bgr.shape[:2]
    if h == 0 or w == 0:
        raise ValueError(f"empty image of shape {image.shape}")
    ratio = min(1.0, max_side / max(h, w))
    rh = max(min_side, int(round(h * ratio / 32)) * 32)
    rw = max(min_side, int(round(w * ratio / 32)) * 32)
    resized = cv2.resize(bgr, (rw, rh), interpolation=cv2.INTER_LINEAR)
    x = (resized.astype(np.float32) / np.float32(127.5) - np.float32(1.0)).transpose(2, 0, 1)
    return DetInput(tensor=np.ascontiguousarray(x[None]), scale_x=w / rw, scale_y=h / rh,
                    image_shape=(h, w))


def _box_score(prob: npt.NDArray[np.float32], quad: Quad) -> float:
    h, w = prob.shape
    x0 = int(np.clip(np.floor(quad[:, 0].min()), 0, w - 1))
    x1 = int(np.clip(np.ceil(quad[:, 0].max()), 0, w - 1))
    y0 = int(np.clip(np.floor(quad[:, 1].min()), 0, h - 1))
    y1 = int(np.clip(np.ceil(quad[:, 1].max()), 0, h - 1))
    mask = np.zeros((y1 - y0 + 1, x1 - x0 + 1), dtype=np.uint8)
    shifted = (quad - np.array([x0, y0], dtype=np.float32)).astype(np.int32)
    cv2.fillPoly(mask, [shifted], (1,))
    return float(cv2.mean(prob[y0:y1 + 1, x0:x1 + 1], mask)[0])


def db_postprocess(
    prob_map: npt.NDArray[np.floating[Any]],
    det_input: DetInput,
    thresh: float = 0.3,
    box_thresh: float = 0.5,
    unclip_ratio: float = 1.6,
    min_size: float = 3.0,
    max_candidates: int = 1000,
) -> list[TextBox]:
    """Text boxes from a DB probability map ``[H, W]`` (or ``[1, 1, H, W]``), in the original
    image's pixels, sorted top-to-bottom then left-to-right."""
    prob = np.asarray(prob_map, dtype=np.float32)
    if prob.ndim == 4:
        prob = prob[0, 0]
    if prob.ndim != 2:
        raise ValueError(f"prob_map must be [H, W] or [1, 1, H, W], got {prob_map.shape}")
    bitmap = cv2.dilate((prob > thresh).astype(np.uint8), np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    oh, ow = det_input.image_shape
    boxes: list[TextBox] = []
    for contour in contours[:max_candidates]:
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(contour)
        if min(rw, rh) < min_size:
            continue
        quad = order_quad(cv2.boxPoints(((cx, cy), (rw, rh), angle)))
        score = _box_score(prob, quad)
        if score < box_thresh:
            continue
        d = rw * rh * unclip_ratio / (2.0 * (rw + rh))
        grown = order_quad(cv2.boxPoints(((cx, cy), (rw + 2 * d, rh + 2 * d), angle)))
        if min(rw, rh) + 2 * d < min_size + 2:
            continue
        grown[:, 0] = np.clip(grown[:, 0] * det_input.scale_x, 0, ow - 1)
        grown[:, 1] = np.clip(grown[:, 1] * det_input.scale_y, 0, oh - 1)
        box = TextBox(quad=grown, score=score)
        if box.width > 3 and box.height > 3:
            boxes.append(box)
    boxes.sort(key=lambda b: (round(float(b.quad[:, 1].min()) / 10), float(b.quad[0, 0])))
    return boxes
