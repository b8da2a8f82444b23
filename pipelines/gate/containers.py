"""Find and read ISO 6346 container codes in one image, and vote across several images.

Text detection (``ppocr_det``) proposes text boxes; each is rectified (tall boxes: stacked
characters re-laid as a line, plus the box turned both ways for sideways text) and read by
``ppocr_rec`` restricted to Latin capitals and digits; boxes are joined into codes and checked
with :mod:`vision.containers.assemble`.
"""

from __future__ import annotations

import string
import time
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from pipelines.gate.ocr import DetMap, GateOcr
from vision.containers.assemble import (
    CHECK_RANK,
    AssembledCode,
    TextToken,
    assemble_codes,
    serial_only,
)
from vision.containers.iso6346 import CODE_LEN
from vision.containers.vertical import column_candidates, column_crop, stack_to_line
from vision.containers.vote import CodeReading, VotedCode, vote
from vision.ocr_det import TextBox, as_bgr
from vision.plates.ctc_constrained import RestrictedText, greedy_restricted
from vision.plates.rectify import rectify

Image = npt.NDArray[np.uint8]
ALLOWED = string.ascii_uppercase + string.digits
REC_H = 48
MAX_BOXES = 48  # text boxes read per image (largest first); door labels carry ~20
WEAK_PROB = 0.1  # detector map level that marks text too small for a confident box
SMALL_TEXT_PX = 28.0  # taller map regions (image pixels) were readable at the pass's scale
ZOOM = 2.0  # magnification of the small-text tiles (10 px print -> 20 px)
TILE_SIDE = 960  # detector input side of one small-text tile
MAX_TILES = 6


@dataclass(frozen=True)
class ContainerImageResult:
    codes: list[AssembledCode]
    serials: list[str]  # 7-digit serials seen without an owner code
    tokens: list[TextToken]


def _crops(image: Image, box: TextBox) -> list[Image]:
    """Candidate line images for one text box: upright, or for a tall box the stacked
    characters as a line and the box turned either way."""
    if box.height <= 1.5 * box.width:
        return [rectify(image, box.quad, out_height=REC_H)]
    upright = rectify(image, box.quad, out_height=max(REC_H, int(box.height)),
                      out_width=max(8, int(box.width)))
    return [stack_to_line(upright, REC_H), np.ascontiguousarray(np.rot90(upright, -1)),
            np.ascontiguousarray(np.rot90(upright, 1))]


@dataclass(frozen=True)
class _Region:
    """A part of the image read again magnified: ``xyxy`` integer pixels, ``scale`` zoom."""

    x0: int
    y0: int
    x1: int
    y1: int
    scale: float


class ContainerReader:
    """Container codes in one image.

    Passes, each followed by the owner-code search left of orphan serials; the next pass runs
    only when no code passed the check digit or code-like text was only partly read (orphan
    serials, owner codes or serials outside every code: more containers, e.g. a stack), and
    only while ``deadline`` (``time.perf_counter()`` seconds) has not passed:

    1. ``exhaustive=False`` only (passages): a cheap pass with the detector at ``first_side``;
    2. the detector at ``det_max_side`` (never upscaled);
    3. the small-text pass: weak text regions of pass 2's detector map read again magnified
       (see :meth:`_small_text`), and with ``vertical`` candidate columns of stacked
       characters (:meth:`_columns`); its codes must pass the check digit without a repair.

    ``exhaustive=True`` (``kouan containers read``, the accuracy benchmark) starts at pass 2;
    ``exhaustive=False`` runs pass 3 only when no code passed the check digit so far.
    """

    def __init__(self, ocr: GateOcr, det_max_side: int = 1280, first_side: int = 640,
                 exhaustive: bool = True, max_tiles: int = MAX_TILES,
                 vertical: bool = True) -> None:
        self.ocr = ocr
        self.vertical = vertical
        self.det_max_side = det_max_side
        self.first_side = first_side
        self.exhaustive = exhaustive
        self.max_tiles = max_tiles

    def tokens(self, image: Image) -> list[TextToken]:
        """Recognised text boxes of ``image`` (uint8 BGR/grey/BGRA) at ``det_max_side``."""
        return self._read_boxes(as_bgr(image), self.det_max_side)[0]

    def _read_boxes(self, bgr: Image, max_side: int) -> tuple[list[TextToken], DetMap]:
        dmap = self.ocr.detect_map(bgr, max_side=max_side)
        return self._recognise(bgr, dmap.boxes), dmap

    def _recognise(self, bgr: Image, boxes: list[TextBox]) -> list[TextToken]:
        boxes = sorted(boxes, key=lambda b: -b.width * b.height)[:MAX_BOXES]
        crops: list[Image] = []
        owner: list[int] = []
        for i, b in enumerate(boxes):
            for c in _crops(bgr, b):
                crops.append(c)
                owner.append(i)
        if not crops:
            return []
        probs = self.ocr.recognize(crops)
        best: dict[int, tuple[float, RestrictedText]] = {}
        for i, p in zip(owner, probs, strict=True):
            r = greedy_restricted(p, self.ocr.rec_index, ALLOWED)
            score = r.confidence * min(1.0, len(r.text) / 4)  # prefer a full reading
            if r.text and (i not in best or score > best[i][0]):
                best[i] = (score, r)
        return [TextToken(text=r.text, confidence=r.confidence, box=boxes[i].xyxy(),
                          char_probs=r.char_probs) for i, (_, r) in sorted(best.items())]

    def read(self, image: Image, deadline: float | None = None) -> ContainerImageResult:
        """Codes in ``image`` (uint8 BGR/grey/BGRA); see the class for the passes."""
        bgr = as_bgr(image)

        def time_left() -> bool:
            return deadline is None or time.perf_counter() < deadline

        def done(res: ContainerImageResult, orphans: bool) -> bool:
            """All read: a code passes the check digit and no code-like text is left over."""
            return _any_valid(res.codes) and not orphans and not _fragments(res.tokens,
                                                                            res.codes)

        if not self.exhaustive and max(bgr.shape[:2]) > self.first_side < self.det_max_side:
            toks, _ = self._read_boxes(bgr, self.first_side)
            res, orphans = self._assemble(bgr, toks)
            if done(res, orphans) or not time_left():
                return res
        toks, dmap = self._read_boxes(bgr, self.det_max_side)
        res, orphans = self._assemble(bgr, toks)
        if done(res, orphans) or not time_left() or (
                not self.exhaustive and _any_valid(res.codes)):
            return res
        extra = self._small_text(bgr, dmap, res.codes, deadline)
        if self.vertical and time_left():
            extra += self._columns(bgr)
        if not extra:
            return res
        # a magnified guess must be clean: read and valid without a repair, away from the
        # codes already read (a second reading of a known code's print is a misread)
        new = [c for c in assemble_codes(res.tokens + extra)
               if c.check_digit_ok and not c.corrected
               and all(c.code != o.code and not _overlap(c.box, o.box) for o in res.codes)]
        if not new:
            return res
        codes = [*res.codes, *new]
        codes.sort(key=lambda c: (-CHECK_RANK[c.check_digit_ok], -c.confidence))
        return ContainerImageResult(codes=codes, serials=res.serials, tokens=res.tokens + extra)

    def _assemble(self, bgr: Image, toks: list[TextToken]) -> tuple[ContainerImageResult, bool]:
        """Codes of ``toks``, searching for the owner code of orphan serials; also whether
        there were orphans (text the detector only partly found)."""
        codes = assemble_codes(toks)
        serials = serial_only(toks)
        orphans = [t for t in toks if (_digits(t.text) or "") in serials
                   and all(c.code[4:] != _digits(t.text) for c in codes)]
        if orphans:
            toks = toks + self._owner_search(bgr, orphans)
            codes = assemble_codes(toks)
        unverified = [c for c in codes if c.check_digit_ok is None]
        if unverified:
            extra = self._check_digit_search(bgr, unverified, toks)
            if extra:
                toks = toks + extra
                codes = assemble_codes(toks)
        return ContainerImageResult(codes=codes, serials=serials, tokens=toks), bool(orphans)

    def _check_digit_search(self, image: Image, codes: list[AssembledCode],
                            tokens: list[TextToken]) -> list[TextToken]:
        """Read again, as one line reaching further right, the last box of each code whose
        check digit was not read: doors print it boxed and a little apart, and the detector
        often leaves it out of the serial's box (a digit alone reads badly, so the serial
        goes along as context). The new tokens cover the old box plus the digit; assembly
        keeps a code only if the digit matches, so nothing is confirmed by guessing."""
        h_img, w_img = image.shape[:2]
        lasts = [t for c in codes[:3] for t in tokens
                 if abs(t.box[2] - c.box[2]) < 1.0 and t.box[0] >= c.box[0] - 1.0
                 and t.box[1] >= c.box[1] - 1.0 and t.box[3] <= c.box[3] + 1.0]
        todo: list[tuple[TextToken, Image, tuple[float, float, float, float]]] = []
        for t in lasts:
            x0, y0, x1, y1 = t.box
            h = y1 - y0
            if x1 - x0 < 1.5 * h:  # not a horizontal line of text
                continue
            bx0, by0 = int(max(0.0, x0 - 0.1 * h)), int(max(0.0, y0 - 0.1 * h))
            bx1, by1 = int(min(float(w_img), x1 + 1.8 * h)), int(min(float(h_img), y1 + 0.1 * h))
            if bx1 - bx0 >= 8 and by1 - by0 >= 8:
                todo.append((t, image[by0:by1, bx0:bx1],
                             (float(bx0), float(by0), float(bx1), float(by1))))
        if not todo:
            return []
        found = []
        for (t, _, box), p in zip(todo, self.ocr.recognize([c for _, c, _ in todo]),
                                  strict=True):
            r = greedy_restricted(p, self.ocr.rec_index, ALLOWED)
            digit = _digit_after(t.text, r.text)
            if digit is not None:  # the old reading plus the digit the longer line shows
                found.append(TextToken(text=f"{t.text} {digit}",
                                       confidence=min(t.confidence, r.confidence), box=box))
        return found

    def _owner_search(self, image: Image, orphans: list[TextToken]) -> list[TextToken]:
        """Look again, at twice the resolution, left of a serial whose owner code the detector
        missed (the owner code is often on its own sticker, a little higher): text detection
        and recognition on that region, boxes mapped back to the image. Only codes that pass
        the check digit survive assembly, so a wrong guess costs nothing but time."""
        h_img, w_img = image.shape[:2]
        found: list[TextToken] = []
        for t in orphans[:3]:
            x0, y0, x1, y1 = t.box
            w, h = x1 - x0, y1 - y0
            bx0, by0 = int(max(0.0, x0 - 1.5 * w)), int(max(0.0, y0 - 1.0 * h))
            bx1, by1 = int(min(float(w_img), x1)), int(min(float(h_img), y1 + 0.2 * h))
            region = image[by0:by1, bx0:bx1]
            if region.shape[0] < 8 or region.shape[1] < 16:
                continue
            scale = min(2.0, 640.0 / max(region.shape[:2]))
            big = cv2.resize(region, (int(region.shape[1] * scale), int(region.shape[0] * scale)),
                             interpolation=cv2.INTER_CUBIC)
            for tok in self._read_boxes(np.asarray(big, np.uint8), max_side=640)[0]:
                found.append(_shift(tok, bx0, by0, scale))
        return found

    def _columns(self, bgr: Image) -> list[TextToken]:
        """Vertical codes (upright characters stacked, e.g. on the corner posts of reefer
        containers), which the text detector does not find: candidate ink columns
        (:func:`column_candidates`) turned to a line and read; boxes in image pixels."""
        boxes = column_candidates(bgr)
        if not boxes:
            return []
        found = []
        for box, p in zip(boxes, self.ocr.recognize([column_crop(bgr, b) for b in boxes]),
                          strict=True):
            r = greedy_restricted(p, self.ocr.rec_index, ALLOWED)
            if len(r.text) >= CODE_LEN - 1:
                x0, y0, x1, y1 = box
                found.append(TextToken(text=r.text, confidence=r.confidence,
                                       box=(float(x0), float(y0), float(x1), float(y1)),
                                       char_probs=r.char_probs))
        return found

    def _small_text(self, bgr: Image, dmap: DetMap, codes: list[AssembledCode],
                    deadline: float | None) -> list[TextToken]:
        """Small text the detector only hinted at (codes on a stack of containers seen from
        afar are ~10 px high): the tiles of :func:`weak_text_tiles` (away from codes already
        read) magnified ``ZOOM`` times and read; tokens mapped back to image pixels."""
        found: list[TextToken] = []
        for reg in weak_text_tiles(dmap, (bgr.shape[0], bgr.shape[1]), [c.box for c in codes],
                                   self.max_tiles):
            if deadline is not None and time.perf_counter() >= deadline:
                break
            crop = bgr[reg.y0:reg.y1, reg.x0:reg.x1]
            big = cv2.resize(crop, (int(crop.shape[1] * reg.scale),
                                    int(crop.shape[0] * reg.scale)),
                             interpolation=cv2.INTER_CUBIC)
            toks, _ = self._read_boxes(np.asarray(big, np.uint8), max_side=TILE_SIDE)
            found += [_shift(t, reg.x0, reg.y0, reg.scale) for t in toks]
        return found


def _digit_after(old: str, new: str) -> str | None:
    """The single digit that ``new`` (a re-read reaching further right) adds after the last
    six characters of ``old``, if it adds exactly that ("GLDU541613", "GOU5416136" -> "6");
    the start of ``new`` may be misread, the tail must agree."""
    o = "".join(ch for ch in old if ch.isalnum())
    n = "".join(ch for ch in new if ch.isalnum())
    tail = o[-6:]
    at = n.rfind(tail)
    rest = n[at + len(tail):] if len(tail) == 6 and at >= 0 else ""
    return rest if len(rest) == 1 and rest.isdigit() else None


def _any_valid(codes: Sequence[AssembledCode]) -> bool:
    return any(c.check_digit_ok for c in codes)


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]
             ) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _fragments(tokens: Sequence[TextToken], codes: Sequence[AssembledCode]) -> bool:
    """Whether some text looks like part of a code (an owner code, or a serial of 6-7 digits)
    outside every code read: a sign of more containers (a stack) than were read."""
    for t in tokens:
        s = "".join(ch for ch in t.text if ch.isalnum())
        owner = len(s) == 4 and s.isalpha() and s[3] in "UJZ"
        serial = 6 <= len(s) <= 7 and s.isdigit()
        if (owner or serial) and not any(_overlap(t.box, c.box) for c in codes):
            return True
    return False


def _shift(tok: TextToken, x0: float, y0: float, scale: float) -> TextToken:
    """``tok`` read in a crop magnified ``scale`` times whose top-left is ``(x0, y0)``."""
    a, b, c, d = tok.box
    return TextToken(text=tok.text, confidence=tok.confidence,
                     box=(x0 + a / scale, y0 + b / scale, x0 + c / scale, y0 + d / scale),
                     char_probs=tok.char_probs)


def weak_text_tiles(dmap: DetMap, image_hw: tuple[int, int],
                    known: Sequence[tuple[float, float, float, float]], limit: int
                    ) -> list[_Region]:
    """Tiles (image pixels) to read again ``ZOOM`` times magnified: they cover the small blobs
    (height < ``SMALL_TEXT_PX``) of the detector map ``dmap.prob`` above ``WEAK_PROB`` whose
    centre lies in no ``known`` box (xyxy, image pixels). A tile is ``TILE_SIDE / ZOOM`` image
    pixels square (the detector keeps the context around the text, which it needs), placed
    greedily: the topmost uncovered blob a quarter from the tile's top, the leftmost uncovered
    blob of that band a little inside its left edge. At most ``limit`` tiles."""
    h_img, w_img = image_hw
    sx, sy = dmap.det_in.scale_x, dmap.det_in.scale_y
    n, _, stats, _ = cv2.connectedComponentsWithStats((dmap.prob > WEAK_PROB).astype(np.uint8))
    blobs: list[tuple[float, float, float, float]] = []
    for x, y, w, h, area in stats[1:n]:
        bx0, by0, bx1, by1 = x * sx, y * sy, (x + w) * sx, (y + h) * sy
        if area < 4 or not 2 <= by1 - by0 < SMALL_TEXT_PX:
            continue
        cx, cy = (bx0 + bx1) / 2, (by0 + by1) / 2
        if not any(k[0] <= cx <= k[2] and k[1] <= cy <= k[3] for k in known):
            blobs.append((bx0, by0, bx1, by1))
    side = TILE_SIDE / ZOOM
    tw, th = min(side, float(w_img)), min(side, float(h_img))
    tiles: list[_Region] = []
    todo = sorted(blobs, key=lambda b: (b[1], b[0]))
    while todo and len(tiles) < limit:
        top = min(max(0.0, todo[0][1] - 0.25 * th), h_img - th)
        band = [b for b in todo if b[1] >= top and b[3] <= top + th]
        left = min(max(0.0, min(b[0] for b in band or todo[:1]) - 0.05 * tw), w_img - tw)
        tile = _Region(int(left), int(top), int(left + tw), int(top + th), ZOOM)
        rest = [b for b in todo if not (b[0] >= tile.x0 and b[2] <= tile.x1
                                        and b[1] >= tile.y0 and b[3] <= tile.y1)]
        if len(rest) == len(todo):  # a blob wider than a tile: read it in its own tile
            rest = todo[1:]
        todo = rest
        tiles.append(tile)
    return tiles


def _digits(text: str) -> str | None:
    s = "".join(ch for ch in text if ch.isalnum())
    return s if s.isdigit() else None


def vote_across(results: Sequence[ContainerImageResult]) -> list[VotedCode]:
    """One voted code per distinct container seen in ``results`` (several images of the same
    truck). Readings are grouped by serial number (the 6 digits rarely all change), then voted."""
    groups: dict[str, list[CodeReading]] = {}
    for res in results:
        for c in res.codes:
            groups.setdefault(c.code[4:10], []).append(CodeReading(c.code, c.confidence))
    voted = [v for v in (vote(g) for g in groups.values()) if v is not None]
    voted.sort(key=lambda v: (-int(v.valid), -v.confidence))
    return voted
