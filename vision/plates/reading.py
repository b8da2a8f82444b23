"""From recogniser probabilities and plate colour to one plate reading with a type.

Pure decisions on top of :mod:`vision.plates.ctc_constrained`: which templates a colour makes
likely (a soft prior, in nats, added to the path log-probability), and how the reading is named
(``cn_blue``, ``cn_yellow_double``, ``cn_green_new_energy``, ``mn_two_row`` ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from vision.plates.ctc_constrained import CharsetIndex, ConstrainedReading, decode_template
from vision.plates.grammar import CN_TEMPLATES, MN_TEMPLATES, Country, PlateTemplate

# templates a background colour is consistent with; the others pay COLOUR_PRIOR_NATS
_COLOUR_TEMPLATES: dict[str, frozenset[str]] = {
    "blue": frozenset({"cn_standard"}),
    "yellow": frozenset({"cn_standard", "cn_trailer", "cn_coach"}),
    "green": frozenset({"cn_new_energy_small", "cn_new_energy_large"}),
    "white": frozenset({"cn_police"}),
    "black": frozenset({"cn_hk_macau", "cn_consulate", "cn_embassy", "cn_standard"}),
}
COLOUR_PRIOR_NATS = 2.0


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
