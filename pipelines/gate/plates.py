"""Locate and read licence plates in one image (Chinese and Mongolian).

1. Candidate regions: plate-coloured regions (:func:`vision.plates.localize.find_plates`, fast)
   plus the whole image when it is plate-shaped (an already-cropped plate).
2. Each region is rectified from its 4 corners; two-row plates are re-laid as one line.
3. All crops go to ``ppocr_rec`` in one batched call, each is decoded with the Chinese plate
   grammar; white/grey, black and yellowish regions also go to the Mongolian CRNN, whose 4
   digits PP-OCR's reading of the same crop then settles with it
   (:func:`vision.plates.reading.second_opinion_digits`).
4. When no colour candidate gives a confident reading, PP-OCR text detection proposes more
   regions (white and black plates, Mongolian plates, unusual lighting); vertically stacked
   boxes are merged into two-row candidates, and a box shaped like a digit row is also grown
   one box height down into a two-row Mongolian guess (the detector often misses the smaller
   letters row).
Readings are ranked by mean character confidence; overlapping duplicates are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from pipelines.gate.ocr import GateOcr
from vision.ocr_det import Quad, TextBox, as_bgr, order_quad
from vision.plates.colour import plate_colour
from vision.plates.localize import find_plates
from vision.plates.reading import PlateReading, read_cn, read_mn, second_opinion_digits
from vision.plates.rectify import quad_size, rectify, row_options, two_rows_to_line

Image = npt.NDArray[np.uint8]
REC_H = 48
MARGIN = (0.06, 0.10)
CONFIDENT = 0.80  # mean char confidence above which the text detector is not consulted
MIN_SCORE = 0.35  # below this a reading is not reported
TWO_ROW_MARGIN = 0.05
# width/height of a detector box that may be the digit row of a two-row plate (``15 37``)
DIGIT_ROW_ASPECT = (1.6, 4.5)
FIRST_ROUND_REGIONS = 2
# crop colours the Mongolian CRNN also reads: Mongolian plates are white, and a dirty or
# warmly lit white plate comes out yellow; blue and green are Chinese only
MN_COLOURS = frozenset({"white", "black", "yellow"})


@dataclass(frozen=True)
class PlateResult:
    """One plate found in an image. ``box``: pixel xyxy; ``quad``: TL TR BR BL corners."""

    reading: PlateReading
    quad: Quad
    source: str  # "colour", "whole_image" or "text_detector"

    @property
    def text(self) -> str:
        return self.reading.text

    @property
    def box(self) -> tuple[float, float, float, float]:
        x, y = self.quad[:, 0], self.quad[:, 1]
        return float(x.min()), float(y.min()), float(x.max()), float(y.max())


@dataclass(frozen=True)
class _Candidate:
    quad: Quad
    rows: int
    source: str
    mn_only: bool = False  # a Mongolian layout guess: not read as a Chinese plate


def _with_rows(quad: Quad, source: str) -> list[_Candidate]:
    """One candidate per row layout the quad's aspect ratio allows."""
    w, h = quad_size(quad)
    return [_Candidate(quad, rows, source) for rows in row_options(w / max(h, 1e-3))]


def _line_crop(image: Image, cand: _Candidate) -> tuple[Image, Image]:
    """(single-line crop for the recogniser, tight crop for colour)."""
    tight = rectify(image, cand.quad, out_height=REC_H * cand.rows)
    crop = rectify(image, cand.quad, out_height=REC_H * cand.rows, margin=MARGIN)
    if cand.rows == 2:
        crop = two_rows_to_line(crop, height=REC_H)
    return crop, tight


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _aligned_union(a: Quad, b: Quad) -> Quad:
    """Smallest rectangle around two text-box quads whose sides follow the boxes' mean
    reading direction (TL TR BR BL): the rows of a turned two-row plate stay level in it,
    where an axis-aligned union would cut their ends."""
    angles = []
    for q in (order_quad(a), order_quad(b)):
        dx, dy = q[1] - q[0]
        angles.append(np.arctan2(dy, dx))
    t = float(np.mean(angles))
    u = np.array([np.cos(t), np.sin(t)])
    v = np.array([-np.sin(t), np.cos(t)])
    pts = np.concatenate([a, b]).astype(np.float64)
    pu, pv = pts @ u, pts @ v
    corners = [(pu.min(), pv.min()), (pu.max(), pv.min()), (pu.max(), pv.max()),
               (pu.min(), pv.max())]
    return np.array([cu * u + cv * v for cu, cv in corners], dtype=np.float32)


def _grown_down(quad: Quad) -> Quad:
    """The box extended by its own height below it, along its sides: the two-row plate a
    digit-row box may be the top of when the detector missed the smaller letters row."""
    q = order_quad(quad)
    down = q[3] - q[0], q[2] - q[1]
    return np.array([q[0], q[1], q[2] + down[1], q[3] + down[0]], dtype=np.float32)


def _merge_two_rows(boxes: list[TextBox]) -> list[Quad]:
    """Quads around box pairs stacked vertically with overlapping x ranges (two-row plates),
    aligned with the boxes (:func:`_aligned_union`)."""
    merged: list[Quad] = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            # callers rank boxes by size, not position: the upper box of the pair is the top row
            (tx0, ty0, tx1, ty1), (bx0, by0, bx1, by1) = sorted(
                (a.xyxy(), b.xyxy()), key=lambda xy: xy[1] + xy[3])
            gap = by0 - ty1
            overlap = min(tx1, bx1) - max(tx0, bx0)
            # detector boxes are grown ("unclipped"), so stacked rows often overlap a little
            if (-0.5 * (ty1 - ty0) <= gap <= 0.8 * (ty1 - ty0)
                    and overlap >= 0.5 * min(tx1 - tx0, bx1 - bx0)):
                merged.append(_aligned_union(a.quad, b.quad))
    return merged


def _merge_one_row(boxes: list[TextBox]) -> list[Quad]:
    """Union quads of box pairs side by side on one line (a one-row plate whose digits and
    letters the detector returned separately, e.g. around a Mongolian ``MNG`` emblem)."""
    merged: list[Quad] = []
    for i, a in enumerate(boxes):
        ax0, ay0, ax1, ay1 = a.xyxy()
        for b in boxes[i + 1:]:
            bx0, by0, bx1, by1 = b.xyxy()
            left, right = ((ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1)) if ax0 <= bx0 else (
                (bx0, by0, bx1, by1), (ax0, ay0, ax1, ay1))
            h = max(left[3] - left[1], right[3] - right[1])
            overlap_y = min(left[3], right[3]) - max(left[1], right[1])
            gap = right[0] - left[2]
            if overlap_y >= 0.6 * h and -0.2 * h <= gap <= 1.5 * h:
                x0, x1 = left[0], max(left[2], right[2])
                y0, y1 = min(left[1], right[1]), max(left[3], right[3])
                merged.append(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]],
                                       dtype=np.float32))
    return merged


class PlateReader:
    """Reads plates through a :class:`GateOcr` (Triton)."""

    def __init__(self, ocr: GateOcr, use_mongolian: bool = True, max_det_boxes: int = 8) -> None:
        self.ocr = ocr
        self.use_mongolian = use_mongolian
        self.max_det_boxes = max_det_boxes

    def _read(self, image: Image, cands: list[_Candidate]) -> list[PlateResult]:
        if not cands:
            return []
        crops, colours = [], []
        for c in cands:
            crop, tight = _line_crop(image, c)
            crops.append(crop)
            colours.append(plate_colour(tight))
        # PP-OCR reads Chinese plates, and gives a second opinion on Mongolian digits; the
        # mn_only layout guesses are not read by it (they are many and never Chinese)
        cn_idx = [i for i, c in enumerate(cands) if not c.mn_only]
        pp_probs = dict(zip(cn_idx, self.ocr.recognize([crops[i] for i in cn_idx]) if cn_idx
                            else [], strict=True))
        # white/grey, black and yellowish regions may be Mongolian plates: the CRNN reads them
        mn_idx = [i for i, col in enumerate(colours) if col in MN_COLOURS] if (
            self.use_mongolian) else []
        mn_probs = self.ocr.recognize_mn([crops[i] for i in mn_idx]) if mn_idx else []
        mn_by_idx = dict(zip(mn_idx, mn_probs, strict=True))
        results: list[PlateResult] = []
        for i, c in enumerate(cands):
            options = [read_cn(pp_probs[i], self.ocr.rec_index, colours[i], c.rows)] if (
                i in pp_probs) else []
            if i in mn_by_idx:
                mn = read_mn(mn_by_idx[i], self.ocr.mn_index, c.rows, colours[i])
                if mn is not None and i in pp_probs:
                    mn = second_opinion_digits(mn, mn_by_idx[i], self.ocr.mn_index,
                                               pp_probs[i], self.ocr.rec_index)
                options.append(mn)
            valid = [o for o in options if o is not None]
            if valid:
                best = max(valid, key=lambda o: o.score)
                results.append(PlateResult(reading=best, quad=c.quad, source=c.source))
        return results

    def _colour_candidates(self, image: Image) -> list[_Candidate]:
        h, w = image.shape[:2]
        cands = [c for p in find_plates(image) for c in _with_rows(p.quad, "colour")]
        if 1.5 <= w / h <= 6.0 and w <= 400:  # the image itself looks like a plate crop
            whole = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
            cands += _with_rows(whole, "whole_image")
        return cands

    def _detector_candidates(self, image: Image) -> list[_Candidate]:
        boxes = [b for b in self.ocr.detect(image)
                 if b.height >= 8 and 1.0 <= b.width / max(b.height, 1.0) <= 9.0]
        boxes.sort(key=lambda b: -b.width * b.height * b.score)
        boxes = boxes[:self.max_det_boxes]
        cands = [c for b in boxes for c in _with_rows(order_quad(b.quad), "text_detector")]
        cands += [_Candidate(q, 2, "text_detector") for q in _merge_two_rows(boxes)]
        if self.use_mongolian:  # Chinese two-row plates have the small row on top
            cands += [_Candidate(_grown_down(b.quad), 2, "text_detector", mn_only=True)
                      for b in boxes if DIGIT_ROW_ASPECT[0] <= b.width / max(b.height, 1.0)
                      <= DIGIT_ROW_ASPECT[1]]
        cands += [_Candidate(q, 1, "text_detector") for q in _merge_one_row(boxes)]
        return cands

    def read(self, image: Image, use_detector: bool = True,
             exhaustive: bool = False) -> list[PlateResult]:
        """Plates found in ``image`` (uint8 BGR/grey/BGRA), best first.

        Candidates are read best-first in two rounds (the two most plate-like colour regions
        and the whole image, then the rest); unless ``exhaustive``, reading stops after the
        round that produced a confident plate, which keeps one-plate lane images fast."""
        bgr = as_bgr(image)
        cands = self._colour_candidates(bgr)
        quads = list(dict.fromkeys(c.quad.tobytes() for c in cands if c.source == "colour"))
        first = set(quads[:FIRST_ROUND_REGIONS])
        rounds = [[c for c in cands if c.source != "colour" or c.quad.tobytes() in first],
                  [c for c in cands if c.source == "colour" and c.quad.tobytes() not in first]]
        results: list[PlateResult] = []
        for batch in rounds:
            if results and not exhaustive and any(
                    r.reading.score >= CONFIDENT for r in results):
                break
            results += self._read(bgr, batch)
        if use_detector and not any(r.reading.score >= CONFIDENT for r in results):
            results += self._read(bgr, self._detector_candidates(bgr))
        results = [r for r in results if r.reading.score >= MIN_SCORE]
        # the same quad read as one row and as two rows: two rows must win clearly, since a
        # tilted one-row plate can look squat enough to try both
        one_row = {(r.source, r.quad.tobytes()): r.reading.score for r in results
                   if r.reading.rows == 1}
        results = [r for r in results if r.reading.rows == 1 or r.reading.score > one_row.get(
            (r.source, r.quad.tobytes()), -1.0) + TWO_ROW_MARGIN]
        results.sort(key=lambda r: -r.reading.score)
        kept: list[PlateResult] = []
        for r in results:
            if all(_iou(r.box, k.box) < 0.3 for k in kept):
                kept.append(r)
        return kept


def crop_for_evidence(image: Image, result: PlateResult) -> Image:
    """Upright crop of a found plate for display (uint8 BGR, 64 px high)."""
    return rectify(as_bgr(image), result.quad, out_height=64, margin=MARGIN)


def draw(image: Image, results: list[PlateResult]) -> Image:
    """Copy of ``image`` with the plate quads outlined (for reviewers)."""
    out = as_bgr(image).copy()
    for r in results:
        cv2.polylines(out, [r.quad.astype(np.int32)], True, (0, 0, 255), 2)
    return out
