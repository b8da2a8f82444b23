"""Find and read ISO 6346 container codes in one image, and vote across several images.

Text detection (``ppocr_det``) proposes text boxes; each is rectified (tall boxes: stacked
characters re-laid as a line, plus the box turned both ways for sideways text) and read by
``ppocr_rec`` restricted to Latin capitals and digits; boxes are joined into codes and checked
with :mod:`vision.containers.assemble`.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from pipelines.gate.ocr import GateOcr
from vision.containers.assemble import AssembledCode, TextToken, assemble_codes, serial_only
from vision.containers.vertical import stack_to_line
from vision.containers.vote import CodeReading, VotedCode, vote
from vision.ocr_det import TextBox, as_bgr
from vision.plates.ctc_constrained import RestrictedText, greedy_restricted
from vision.plates.rectify import rectify

Image = npt.NDArray[np.uint8]
ALLOWED = string.ascii_uppercase + string.digits
REC_H = 48
MAX_BOXES = 48  # text boxes read per image (largest first); door labels carry ~20


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


class ContainerReader:
    def __init__(self, ocr: GateOcr, det_max_side: int = 1280) -> None:
        self.ocr = ocr
        self.det_max_side = det_max_side

    def tokens(self, image: Image) -> list[TextToken]:
        """Recognised text boxes of ``image`` (uint8 BGR/grey/BGRA)."""
        return self._read_boxes(as_bgr(image), self.det_max_side)

    def _read_boxes(self, bgr: Image, max_side: int) -> list[TextToken]:
        boxes = self.ocr.detect(bgr, max_side=max_side)
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

    def read(self, image: Image) -> ContainerImageResult:
        bgr = as_bgr(image)
        toks = self.tokens(bgr)
        codes = assemble_codes(toks)
        serials = serial_only(toks)
        orphans = [t for t in toks if (_digits(t.text) or "") in serials
                   and all(c.code[4:] != _digits(t.text) for c in codes)]
        if orphans:
            codes = assemble_codes(toks + self._owner_search(bgr, orphans))
        return ContainerImageResult(codes=codes, serials=serials, tokens=toks)

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
            for tok in self._read_boxes(np.asarray(big, np.uint8), max_side=640):
                a, b, c, d = tok.box
                found.append(TextToken(text=tok.text, confidence=tok.confidence,
                                       box=(bx0 + a / scale, by0 + b / scale, bx0 + c / scale,
                                            by0 + d / scale), char_probs=tok.char_probs))
        return found


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
