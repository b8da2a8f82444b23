"""Find Chinese plates by their background colour (blue, yellow, green) in a scene photo.

Classical and fast (a few milliseconds on 1 MP): threshold the plate hues in HSV, close the
gaps the characters leave, and keep regions whose minimum-area rectangle has a plate-like
aspect ratio, size and fill. Each region's corners come from a 4-point polygon fit of its convex
hull when that fit is good (it follows the perspective), else from the rectangle.

Candidates are returned in original-image pixels (quads ``[4, 2]`` float32, TL TR BR BL), best
first. White and black plates and Mongolian plates have no distinctive hue; the pipeline finds
those through the text detector instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from vision.ocr_det import Quad, as_bgr, order_quad
from vision.plates.rectify import quad_size

# (colour, lower HSV, upper HSV)
# Strict and loose ranges per colour: strict separates bright plates from car paint, loose
# catches dim or washed-out plates; both sets of regions are scored together.
_RANGES: tuple[tuple[str, tuple[int, int, int], tuple[int, int, int]], ...] = (
    ("blue", (100, 110, 80), (125, 255, 255)),
    ("blue", (95, 60, 30), (130, 255, 255)),
    ("yellow", (15, 100, 100), (32, 255, 255)),
    ("yellow", (11, 70, 70), (34, 255, 255)),
    ("green", (40, 60, 120), (85, 255, 255)),
    ("green", (35, 20, 110), (90, 255, 255)),
)


@dataclass(frozen=True)
class PlateCandidate:
    quad: Quad
    colour: str
    score: float
    rows: int  # 1 or 2, guessed from the aspect ratio

    def xyxy(self) -> tuple[float, float, float, float]:
        x, y = self.quad[:, 0], self.quad[:, 1]
        return float(x.min()), float(y.min()), float(x.max()), float(y.max())


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _fit_quad(contour: npt.NDArray[np.int32], rect_quad: Quad) -> Quad:
    hull = cv2.convexHull(contour)
    peri = cv2.arcLength(hull, True)
    for eps in (0.02, 0.04, 0.06):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4:
            quad = order_quad(approx.reshape(4, 2))
            rect_area = cv2.contourArea(rect_quad)
            if rect_area > 0 and cv2.contourArea(quad) >= 0.8 * rect_area:
                return quad
    return rect_quad


def find_plates(image: npt.NDArray[np.uint8], max_candidates: int = 6,
                work_side: int = 960) -> list[PlateCandidate]:
    """Plate-coloured regions of ``image`` (uint8 BGR/grey/BGRA), best first.

    The search runs on a copy scaled so its longer side is at most ``work_side`` pixels.
    """
    bgr = as_bgr(image)
    h, w = bgr.shape[:2]
    if h < 8 or w < 8:
        return []
    s = min(1.0, work_side / max(h, w))
    small = cv2.resize(bgr, (max(1, int(w * s)), max(1, int(h * s))),
                       interpolation=cv2.INTER_AREA) if s < 1 else bgr
    sh, sw = small.shape[:2]
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    area_img = float(sh * sw)
    kx, ky = max(3, sw // 80) | 1, max(3, sh // 160) | 1
    found: list[PlateCandidate] = []
    for colour, lo, hi in _RANGES:
        mask = cv2.inRange(hsv, np.array(lo, np.uint8), np.array(hi, np.uint8))
        closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE,
                                  cv2.getStructuringElement(cv2.MORPH_RECT, (kx, ky)))
        closed = cv2.morphologyEx(closed, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for c in contours:
            area = cv2.contourArea(c)
            if area < max(120.0, area_img * 2e-4) or area > area_img * 0.25:
                continue
            (cx, cy), (rw, rh), angle = cv2.minAreaRect(c)
            long_side, short_side = max(rw, rh), min(rw, rh)
            if short_side < 6:
                continue
            aspect = long_side / short_side
            if not 1.4 <= aspect <= 6.0:
                continue
            rect_quad = order_quad(cv2.boxPoints(((cx, cy), (rw, rh), angle)))
            # plates are roughly horizontal at a gate: the long side must not be near vertical
            top = rect_quad[1] - rect_quad[0]
            if abs(np.degrees(np.arctan2(top[1], top[0]))) > 35:
                continue
            fill = area / (rw * rh)
            if fill < 0.55:
                continue
            x0, y0, x1, y1 = cv2.boundingRect(c)
            inside = mask[y0:y0 + y1, x0:x0 + x1]
            colour_share = float(np.count_nonzero(inside)) / max(1, inside.size)
            # characters break the colour: a plate is neither solid colour nor mostly text
            if not 0.35 <= colour_share <= 0.95:
                continue
            quad = _fit_quad(np.asarray(c, dtype=np.int32), rect_quad) / np.float32(s)
            qw, qh = quad_size(quad)
            aspect = qw / max(qh, 1e-3)  # of the perspective-corrected quad: rows are visible
            rows = 2 if aspect < 2.4 else 1
            prior = 1.0 if (rows == 1 and 2.6 <= aspect <= 4.8) or rows == 2 else 0.6
            score = fill * prior * min(1.0, area / (area_img * 2e-3))
            found.append(PlateCandidate(quad=quad.astype(np.float32), colour=colour,
                                        score=float(score), rows=rows))
    found.sort(key=lambda p: -p.score)
    kept: list[PlateCandidate] = []
    for cand in found:  # strict and loose masks often find the same plate
        if all(_iou(cand.xyxy(), k.xyxy()) < 0.6 for k in kept):
            kept.append(cand)
    return kept[:max_candidates]
