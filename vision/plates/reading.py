"""From recogniser probabilities and plate colour to one plate reading with a type.

Pure decisions on top of :mod:`vision.plates.ctc_constrained`: which templates a colour makes
likely (a soft prior, in nats, added to the path log-probability), and how the reading is named
(``cn_blue``, ``cn_yellow_double``, ``cn_green_new_energy``, ``mn_two_row`` ...).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from vision.plates.ctc_constrained import CharsetIndex, ConstrainedReading, decode_template
from vision.plates.grammar import (
    CN_TEMPLATES,
    DIGITS,
    MN_TEMPLATES,
    Country,
    PlateTemplate,
)

# templates a background colour is consistent with; the others pay COLOUR_PRIOR_NATS
_COLOUR_TEMPLATES: dict[str, frozenset[str]] = {
    "blue": frozenset({"cn_standard"}),
    "yellow": frozenset({"cn_standard", "cn_trailer", "cn_coach"}),
    "green": frozenset({"cn_new_energy_small", "cn_new_energy_large"}),
    "white": frozenset({"cn_police"}),
    "black": frozenset({"cn_hk_macau", "cn_consulate", "cn_embassy", "cn_standard"}),
}
COLOUR_PRIOR_NATS = 2.0
MN_DIGITS = 4  # a Mongolian plate starts with 4 digits (mn_standard)
# the second opinion is only trusted on a line both readers aligned alike: at least this many
# of the 4 digits must already agree, else one of them read something else (a screw, the
# Soyombo, a neighbouring line) and its digits are not evidence about these ones
MIN_DIGITS_AGREEING = 3
CJK_START = 0x2E80  # first CJK code point; the "any character" slots skip ideographs


@dataclass(frozen=True)
class PlateReading:
    """A grammar-valid reading. ``plate_type``: see :func:`plate_type`; ``score``: mean
    per-character confidence in [0, 1] (used to rank candidate regions); ``confidence``: the
    weakest character's confidence; ``spans``: first/last recogniser step of each character."""

    text: str
    template: PlateTemplate
    char_conf: tuple[float, ...]
    colour: str
    rows: int
    plate_type: str
    log_score: float
    spans: tuple[tuple[int, int], ...] = ()

    @property
    def confidence(self) -> float:
        return min(self.char_conf)

    @property
    def score(self) -> float:
        return float(np.mean(self.char_conf))


def plate_type(template: PlateTemplate, colour: str, rows: int) -> str:
    """Human-readable type: country, colour/class, row count."""
    if template.country is Country.MN:
        return "mn_two_row" if rows == 2 else "mn_one_row"
    if template.name.startswith("cn_new_energy"):
        return "cn_green_new_energy" + ("_large" if template.name.endswith("large") else "")
    special = {"cn_trailer": "cn_yellow_trailer", "cn_coach": "cn_yellow_coach",
               "cn_police": "cn_white_police", "cn_hk_macau": "cn_black_hk_macau",
               "cn_consulate": "cn_black_consulate", "cn_embassy": "cn_black_embassy"}
    base = special.get(template.name, f"cn_{colour}")
    return base + ("_double" if rows == 2 else "")


def _finish(r: ConstrainedReading, colour: str, rows: int, bonus: float) -> PlateReading:
    return PlateReading(text=r.text, template=r.template, char_conf=r.char_conf, colour=colour,
                        rows=rows, plate_type=plate_type(r.template, colour, rows),
                        log_score=r.log_score + bonus, spans=r.spans)


def read_cn(probs: npt.NDArray[np.floating[Any]], cs: CharsetIndex, colour: str, rows: int,
            templates: tuple[PlateTemplate, ...] = CN_TEMPLATES) -> PlateReading | None:
    """Best Chinese reading of ``probs`` ``[T, C]`` with a soft colour prior; ``None`` when no
    template can be spelled."""
    likely = _COLOUR_TEMPLATES.get(colour, frozenset())
    best: PlateReading | None = None
    for tpl in templates:
        r = decode_template(probs, cs, tpl)
        if r is None:
            continue
        cand = _finish(r, colour, rows, 0.0 if tpl.name in likely else -COLOUR_PRIOR_NATS)
        if best is None or cand.log_score > best.log_score:
            best = cand
    return best


def read_mn(probs: npt.NDArray[np.floating[Any]], cs: CharsetIndex, rows: int,
            colour: str = "white") -> PlateReading | None:
    """Mongolian reading of the ``plate_rec_mn`` output ``probs`` ``[T, C]``."""
    best: PlateReading | None = None
    for tpl in MN_TEMPLATES:
        r = decode_template(probs, cs, tpl)
        if r is not None and (best is None or r.log_score > best.log_score):
            best = _finish(r, colour, rows, 0.0)
    return best


@lru_cache(maxsize=8)
def _digits_then_any(cs: CharsetIndex, length: int) -> PlateTemplate:
    """4 digits, then ``length - 4`` slots taking any non-ideograph character of ``cs`` (Latin,
    digits, Cyrillic, punctuation, the gate model's catch-all column): how PP-OCR spells a
    Mongolian plate. Built once per charset (the gate has one)."""
    ignorable = {int(i) for i in cs.ignorable}
    tail = frozenset(ch for ch, i in cs.index.items()
                     if i not in ignorable and all(ord(c) < CJK_START for c in ch))
    return PlateTemplate("mn_digits_any", Country.MN,
                         (frozenset(DIGITS),) * MN_DIGITS + (tail,) * (length - MN_DIGITS), None)


def _digit_posterior(probs: npt.NDArray[np.floating[Any]], cs: CharsetIndex, span: tuple[int, int],
                     chosen: str) -> npt.NDArray[np.float64]:
    """Distribution over ``DIGITS`` (shape ``[10]``, sums to 1) at the step of ``span`` (first,
    last step, inclusive) where the reader was surest of ``chosen``."""
    cols = np.array([cs.index[d] for d in DIGITS])
    steps = np.asarray(probs[span[0]:span[1] + 1], dtype=np.float64)
    t = int(steps[:, cs.index[chosen]].argmax())
    p = np.clip(steps[t, cols], 1e-9, None)
    return np.asarray(p / p.sum())


def second_opinion_digits(reading: PlateReading, mn_probs: npt.NDArray[np.floating[Any]],
                          mn_cs: CharsetIndex, pp_probs: npt.NDArray[np.floating[Any]],
                          pp_cs: CharsetIndex) -> PlateReading:
    """A Mongolian ``reading`` (from the CRNN's ``mn_probs`` ``[T, C]``) with its 4 digits
    settled by both the CRNN and PP-OCR (``pp_probs`` ``[T', C']`` of the same line).

    The CRNN learnt Cyrillic from generated plates only; PP-OCR was trained on a great many
    real photos and reads digits well but spells Cyrillic letters as Latin look-alikes. The
    PP-OCR line is decoded as 4 digits + 3 "any non-ideograph" characters; each digit's
    distribution from each reader (at its most confident step) is multiplied and
    renormalised (product of experts) and the argmax kept, its probability becoming the
    digit's confidence. Letters stay the CRNN's. The reading is returned unchanged when PP-OCR
    cannot spell the line or the two agree on fewer than :data:`MIN_DIGITS_AGREEING` digits.
    """
    if reading.template.country is not Country.MN or len(reading.spans) != reading.template.length:
        return reading
    if any(d not in pp_cs.index or d not in mn_cs.index for d in DIGITS):
        return reading
    other = decode_template(pp_probs, pp_cs, _digits_then_any(pp_cs, reading.template.length))
    if other is None:
        return reading
    agree = sum(a == b for a, b in zip(reading.text[:MN_DIGITS], other.text[:MN_DIGITS],
                                       strict=True))
    if agree < MIN_DIGITS_AGREEING:
        return reading
    text, conf = list(reading.text), list(reading.char_conf)
    for i in range(MN_DIGITS):
        fused = (_digit_posterior(mn_probs, mn_cs, reading.spans[i], reading.text[i])
                 * _digit_posterior(pp_probs, pp_cs, other.spans[i], other.text[i]))
        fused /= fused.sum()
        k = int(fused.argmax())
        text[i], conf[i] = DIGITS[k], float(fused[k])
    return replace(reading, text="".join(text), char_conf=tuple(conf))
