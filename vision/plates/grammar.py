"""Plate grammars: which character each position of a Chinese or Mongolian plate may hold.

A :class:`PlateTemplate` is a fixed-length sequence of allowed-character sets, one per
position. Grammar-aware decoding (:mod:`vision.plates.ctc_constrained`) finds the best reading
that fits a template; :func:`match_template` validates a finished string.

Chinese plates (GA 36-2018):
- blue (small vehicles) / yellow (large vehicles, single or double row): province + city letter
  + 5 letters/digits, e.g. ``皖A12345``;
- trailer (yellow): province + city letter + 4 letters/digits + ``挂``; coach: ... + ``学``;
- police (white): ... + ``警``; Hong Kong / Macau cross-border (black): ``粤Z`` + 4 + ``港``/``澳``;
- consulate (black): province + city letter + 4 letters/digits + ``领`` (``沪A1707领``); embassy
  (black): ``使`` + 3-digit mission code + 3-digit serial (``使014578``);
- green new-energy (8 characters): province + city letter + either ``[A-HJK]`` + 1 letter/digit +
  4 digits (small vehicles) or 5 digits + ``[A-HJK]`` (large vehicles).
Letters exclude ``I`` and ``O`` (too close to 1 and 0).

Mongolian plates: 4 digits + 3 Cyrillic letters (``1537 УНЛ``), the first letter names the
aimag or the capital (``У`` = Ulaanbaatar); one or two rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
DIGITS = "0123456789"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O
ALNUM = LETTERS + DIGITS
ENERGY = "ABCDEFGHJK"  # new-energy class letters (D: pure electric, F: hybrid, A-K since 2022)
# Mongolian Cyrillic capitals used on plates (soft/hard signs and Й, Ы never appear).
MN_LETTERS = "АБВГДЕЁЖЗИКЛМНОӨПРСТУҮФХЦЧШЩЭЮЯ"


class Country(Enum):
    CN = "CN"
    MN = "MN"


@dataclass(frozen=True)
class PlateTemplate:
    """One plate grammar. ``positions[i]`` is the set of characters position ``i`` allows;
    ``colour`` is the background colour the template implies (``None`` when it depends on the
    vehicle, e.g. blue vs yellow for the common 7-character grammar)."""

    name: str
    country: Country
    positions: tuple[frozenset[str], ...]
    colour: str | None

    def __post_init__(self) -> None:
        if not self.positions or any(not p for p in self.positions):
            raise ValueError(f"template {self.name}: every position needs allowed characters")

    @property
    def length(self) -> int:
        return len(self.positions)

    @property
    def charset(self) -> frozenset[str]:
        return frozenset().union(*self.positions)

    def accepts(self, text: str) -> bool:
        return len(text) == self.length and all(
            ch in allowed for ch, allowed in zip(text, self.positions, strict=True))


def _t(name: str, country: Country, colour: str | None, *sets: str) -> PlateTemplate:
    return PlateTemplate(name, country, tuple(frozenset(s) for s in sets), colour)


_P, _L, _A, _D = PROVINCES, LETTERS, ALNUM, DIGITS
CN_TEMPLATES: tuple[PlateTemplate, ...] = (
    _t("cn_standard", Country.CN, None, _P, _L, _A, _A, _A, _A, _A),
    _t("cn_trailer", Country.CN, "yellow", _P, _L, _A, _A, _A, _A, "挂"),
    _t("cn_coach", Country.CN, "yellow", _P, _L, _A, _A, _A, _A, "学"),
    _t("cn_police", Country.CN, "white", _P, _L, _A, _A, _A, _A, "警"),
    _t("cn_hk_macau", Country.CN, "black", "粤", "Z", _A, _A, _A, _A, "港澳"),
    _t("cn_consulate", Country.CN, "black", _P, _L, _A, _A, _A, _A, "领"),
    _t("cn_embassy", Country.CN, "black", "使", _D, _D, _D, _D, _D, _D),
    _t("cn_new_energy_small", Country.CN, "green", _P, _L, ENERGY, _A, _D, _D, _D, _D),
    _t("cn_new_energy_large", Country.CN, "green", _P, _L, _D, _D, _D, _D, _D, ENERGY),
)
MN_TEMPLATES: tuple[PlateTemplate, ...] = (
    _t("mn_standard", Country.MN, "white", _D, _D, _D, _D, MN_LETTERS, MN_LETTERS, MN_LETTERS),
)
ALL_TEMPLATES: tuple[PlateTemplate, ...] = CN_TEMPLATES + MN_TEMPLATES


def normalise_plate(text: str) -> str:
    """Drop separators (``·``, ``-``, spaces, dots) and upper-case Latin/Cyrillic letters."""
    return "".join(ch for ch in text.upper() if ch not in " ·•.-_:'\"")


def match_template(text: str, templates: tuple[PlateTemplate, ...] = ALL_TEMPLATES
                   ) -> PlateTemplate | None:
    """First template (in the given order) that accepts the normalised ``text``; else ``None``."""
    s = normalise_plate(text)
    for tpl in templates:
        if tpl.accepts(s):
            return tpl
    return None


def template_by_name(name: str) -> PlateTemplate:
    for tpl in ALL_TEMPLATES:
        if tpl.name == name:
            return tpl
    raise ValueError(f"unknown plate template {name!r}")
