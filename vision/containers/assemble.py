"""Assemble ISO 6346 codes from recognised text boxes.

Container doors print the code as ``MSKU 413532 9`` in one line, but a text detector often
returns the owner code, the serial and the (boxed) check digit as separate boxes, sometimes on
two lines (``CMAU`` above ``005154 8``). This module joins boxes that belong together by
geometry, validates with the check digit and finds the size/type code printed nearby.

Boxes are pixel ``xyxy`` in the image frame; texts are raw recogniser output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vision.containers.iso6346 import CODE_LEN, check_and_correct, check_digit, find_codes
from vision.containers.size_type import SizeType, parse_size_type
from vision.ocr_confusables import DIGIT_TO_LETTER, LETTER_TO_DIGIT

Box = tuple[float, float, float, float]
_OWNER_RE = re.compile(r"^[A-Z]{3}[UJZ]$")
# More class coercions than this and a check-digit pass is more likely luck (1 in 10) than a
# misread code: random text coerced into the layout passes a tenth of the time.
MAX_COERCIONS = 2
# order of check-digit states, best first: read and valid, not visible, read and invalid
CHECK_RANK: dict[bool | None, int] = {True: 2, None: 1, False: 0}


@dataclass(frozen=True)
class TextToken:
    """One recognised text box. ``char_probs``: per character of ``text`` the recogniser's top
    alternatives (``{char: probability}``), when known; used to settle ambiguous repairs."""

    text: str
    confidence: float
    box: Box
    char_probs: tuple[dict[str, float], ...] | None = None

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]


@dataclass(frozen=True)
class AssembledCode:
    """A code found in one image.

    ``code``: 11 characters when the check digit was read or could be computed, else what was
    read; ``check_digit_ok``: ``True`` read and valid (possibly after a single confusable
    repair), ``False`` read and invalid, ``None`` not visible (computed from the first 10);
    ``raw``: the joined recogniser text; ``confidence``: the weakest joined box's confidence.
    """

    code: str
    check_digit_ok: bool | None
    raw: str
    confidence: float
    box: Box
    size_type: SizeType | None
    corrected: bool


def _norm(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def _starts_with_owner(text: str) -> bool:
    """A box that starts with an owner code and holds at most 5 serial digits after it (a
    longer box is a whole code, handled by find_codes)."""
    s = _norm(text)
    if not 4 <= len(s) <= 9:
        return False
    head = "".join(DIGIT_TO_LETTER.get(c, c) for c in s[:4])
    if head[3] == "V":
        head = head[:3] + "U"
    return bool(_OWNER_RE.match(head)) and (len(s) == 4 or _as_digits(s[4:]) is not None)


def _coercions(raw: str) -> int:
    """Characters of ``raw`` in the wrong class for their position (digit among the owner
    letters, letter among the digits)."""
    return sum(1 for i, ch in enumerate(raw[:CODE_LEN]) if (i < 4) == ch.isdigit())


def _as_digits(text: str) -> str | None:
    s = "".join(LETTER_TO_DIGIT.get(c, c) for c in _norm(text))
    return s if s and s.isdigit() else None


def _same_line(a: Box, b: Box) -> bool:
    overlap = min(a[3], b[3]) - max(a[1], b[1])
    return overlap >= 0.4 * min(a[3] - a[1], b[3] - b[1])


def _union(boxes: list[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def _following_digits(owner: TextToken, tokens: list[TextToken]) -> list[list[TextToken]]:
    """Digit-token chains after an owner code: starting to its right on its line, or on the
    next line under it; each chain continues with the nearest digit box to the right of its
    last box (same line, or the check digit printed slightly lower). Ordered left to right."""
    h = owner.height
    digits = [t for t in tokens if t is not owner and _as_digits(t.text)]
    right = [t for t in digits if _same_line(owner.box, t.box)
             and -0.5 * h <= t.box[0] - owner.box[2] <= 3 * h]
    below = [t for t in digits if 0 <= t.box[1] - owner.box[3] + 0.3 * h <= 1.5 * h
             and abs(t.box[0] - owner.box[0]) <= 1.5 * h]
    chains = []
    # the leftmost start, and any other starting within half a character height of it: two
    # overlapping boxes of one serial ("99414" and "9941418", e.g. from two magnified reads of
    # the same print) must not hide the complete one
    for group in (right, below):
        if not group:
            continue
        x_first = min(t.box[0] for t in group)
        for start in sorted((t for t in group if t.box[0] - x_first <= 0.5 * h),
                            key=lambda t: t.box[0]):
            chains.append(_chain(start, digits, h))
    return chains


def _boxed_check_digit(code: TextToken, tokens: list[TextToken]) -> TextToken | None:
    """A one-digit box just right of ``code`` (a box holding owner code and serial): the
    check digit, which doors print boxed and detectors often return on its own."""
    h = code.height
    near = [t for t in tokens if t is not code and len(_norm(t.text)) == 1
            and _norm(t.text).isdigit() and -0.5 * h <= t.box[0] - code.box[2] <= 1.5 * h
            and _same_line(code.box, t.box)]
    return min(near, key=lambda t: t.box[0]) if near else None


def _chain(start: TextToken, digits: list[TextToken], h: float) -> list[TextToken]:
    """``start`` and the digit boxes that continue it to the right (see _following_digits)."""
    chain = [start]
    while sum(len(_as_digits(c.text) or "") for c in chain) < 7:
        last = chain[-1]
        nxt = [t for t in digits if t not in chain
               and -0.5 * h <= t.box[0] - last.box[2] <= 2.5 * h
               and (_same_line(last.box, t.box)
                    or last.box[1] <= t.box[1] <= last.box[3] + 0.5 * h)]
        if not nxt:
            break
        chain.append(min(nxt, key=lambda t: t.box[0]))
    return chain


def _size_type_near(box: Box, tokens: list[TextToken]) -> SizeType | None:
    h = box[3] - box[1]
    best: tuple[float, SizeType] | None = None
    for t in tokens:
        st = parse_size_type(t.text)
        if st is None:
            continue
        dx = max(0.0, t.box[0] - box[2], box[0] - t.box[2])
        dy = max(0.0, t.box[1] - box[3], box[1] - t.box[3])
        dist = dx + dy
        if dist <= 4 * max(h, 1.0) and (best is None or dist < best[0]):
            best = (dist, st)
    return best[1] if best else None


def _alnum_probs(t: TextToken) -> list[dict[str, float]] | None:
    if t.char_probs is None or len(t.char_probs) != len(t.text):
        return None
    return [p for ch, p in zip(t.text, t.char_probs, strict=True) if ch.isalnum()]


def _join(parts: list[TextToken], dedup: bool
          ) -> tuple[list[str], list[dict[str, float]] | None]:
    """Normalised texts of neighbouring boxes (and their joined per-character probabilities).

    With ``dedup``, characters a box shares with the previous one because the two boxes
    overlap (the detector split a line with overlap) are dropped from its start: the overlap
    width divided by the box's mean character width, when they repeat the previous box's end.
    """
    texts: list[str] = []
    probs: list[dict[str, float]] | None = []
    for i, t in enumerate(parts):
        text = _norm(t.text)
        pp = _alnum_probs(t)
        drop = 0
        if dedup and i > 0 and text:
            prev = parts[i - 1]
            overlap = prev.box[2] - t.box[0]
            char_w = (t.box[2] - t.box[0]) / len(text)
            k = int(round(overlap / char_w)) if char_w > 0 and overlap > 0 else 0
            if 0 < k < len(text) and texts[-1].endswith(text[:k]):
                drop = k
        texts.append(text[drop:])
        probs = None if pp is None or probs is None else probs + pp[drop:]
    return texts, probs


def _finish(raw: str, conf: float, boxes: list[Box], tokens: list[TextToken],
            probs: list[dict[str, float]] | None) -> AssembledCode | None:
    if _coercions(raw) > MAX_COERCIONS:
        return None  # mostly letters where digits belong (or the reverse): not a code
    chk = check_and_correct(raw, probs if probs is not None and len(probs) == len(raw) else None)
    code, ok = chk.code, chk.valid
    check: bool | None = ok
    if len(code) == CODE_LEN - 1 and re.match(r"^[A-Z]{3}[UJZ]\d{6}$", code):
        code, check = code + str(check_digit(code)), None
    elif len(code) != CODE_LEN:
        return None
    box = _union(boxes)
    return AssembledCode(code=code, check_digit_ok=check, raw=raw, confidence=conf, box=box,
                         size_type=_size_type_near(box, tokens),
                         corrected=code[:len(raw)] != _norm(raw))


def assemble_codes(tokens: list[TextToken]) -> list[AssembledCode]:
    """Codes found among ``tokens``, best first (valid check digit, then confidence),
    one per distinct code."""
    found: list[AssembledCode] = []
    for t in tokens:  # whole codes inside one box
        norm = _norm(t.text)
        probs = _alnum_probs(t)
        for raw in find_codes(t.text):
            at = norm.find(raw)
            sub = probs[at:at + len(raw)] if probs is not None and at >= 0 else None
            boxes, conf = [t.box], t.confidence
            digit = _boxed_check_digit(t, tokens) if (
                len(raw) == CODE_LEN - 1 and norm.endswith(raw)) else None
            if digit is not None:  # the boxed check digit came as a box of its own
                raw += _norm(digit.text)
                boxes.append(digit.box)
                conf = min(conf, digit.confidence)
                dp = _alnum_probs(digit)
                sub = sub + dp if sub is not None and dp is not None else None
            res = _finish(raw, conf, boxes, tokens, sub)
            if res is not None:
                found.append(res)
    for t in tokens:  # owner code box + digit boxes
        if not _starts_with_owner(t.text):
            continue
        for chain in _following_digits(t, tokens):
            parts = [t, *chain]
            for dedup in (False, True):
                texts, probs = _join(parts, dedup)
                raw = "".join(texts)[:CODE_LEN]
                if len(raw) < CODE_LEN - 1:
                    continue
                conf = min(p.confidence for p in parts)
                res = _finish(raw, conf, [p.box for p in parts], tokens,
                              probs[:len(raw)] if probs is not None else None)
                if res is not None:
                    found.append(res)
    found.sort(key=lambda c: (-CHECK_RANK[c.check_digit_ok], -c.confidence))
    unique: list[AssembledCode] = []
    for c in found:
        # a failing reading of the same boxes as a passing one is just a worse joining
        shadowed = c.check_digit_ok is False and any(
            u.check_digit_ok is not False and _overlap(c.box, u.box) for u in unique)
        if not shadowed and all(c.code != u.code for u in unique):
            unique.append(c)
    return unique


def _overlap(a: Box, b: Box) -> bool:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return smaller > 0 and ix * iy >= 0.5 * smaller


def serial_only(tokens: list[TextToken]) -> list[str]:
    """7-digit strings (serial + check digit) seen without an owner code next to them; the
    owner code may have been missed, so matching can still compare the serial."""
    out = []
    for t in tokens:
        d = _as_digits(t.text)
        if d is not None and len(d) == 7:
            out.append(d)
    return out
