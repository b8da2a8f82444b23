"""ISO 6346 size and type codes (the 4-character ``45G1`` printed under the container number).

Character 1: length; 2: height (and width class); 3-4: type group and detail. Only the 1995
alphanumeric scheme is decoded; legacy all-digit codes (``2210``) are rejected as unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vision.ocr_confusables import DIGIT_TO_LETTER, LETTER_TO_DIGIT

LENGTH_MM: dict[str, tuple[int, str]] = {
    "1": (2991, "10 ft"), "2": (6058, "20 ft"), "3": (9125, "30 ft"), "4": (12192, "40 ft"),
    "A": (7150, "23 ft 5 in"), "B": (7315, "24 ft"), "C": (7430, "24 ft 6 in"),
    "D": (7450, "24 ft 6 in"), "E": (7820, "25 ft 8 in"), "F": (8100, "26 ft 7 in"),
    "G": (12500, "41 ft"), "H": (13106, "43 ft"), "K": (13600, "44 ft 7 in"),
    "L": (13716, "45 ft"), "M": (14630, "48 ft"), "N": (14935, "49 ft"), "P": (16154, "53 ft"),
}
HEIGHT_MM: dict[str, tuple[int | None, str]] = {
    "0": (2438, "8 ft"), "2": (2591, "8 ft 6 in"), "4": (2743, "9 ft"),
    "5": (2895, "9 ft 6 in (high cube)"), "6": (None, "over 9 ft 6 in"),
    "8": (1295, "4 ft 3 in"), "9": (None, "4 ft or less"),
    "C": (2591, "8 ft 6 in, width 2438-2500 mm"), "D": (2743, "9 ft, width 2438-2500 mm"),
    "E": (2895, "9 ft 6 in, width 2438-2500 mm"), "F": (None, "over 9 ft 6 in, width 2438-2500 mm"),
    "L": (2591, "8 ft 6 in, width over 2500 mm"), "M": (2743, "9 ft, width over 2500 mm"),
    "N": (2895, "9 ft 6 in, width over 2500 mm"), "P": (None, "over 9 ft 6 in, width over 2500 mm"),
}
TYPE_GROUPS: dict[str, str] = {
    "G": "general purpose", "V": "ventilated", "B": "dry bulk", "S": "named cargo",
    "R": "refrigerated / heated", "H": "thermal insulated", "U": "open top",
    "P": "platform / flat rack", "T": "tank", "A": "air / surface",
}
_RE = re.compile(r"^[1-4A-HKLMNP][024-689C-FL-NP][GVBSRHUPTA]\d$")


@dataclass(frozen=True)
class SizeType:
    """A decoded size/type code; lengths and heights in millimetres (``None``: open-ended)."""

    code: str
    length_mm: int
    length: str
    height_mm: int | None
    height: str
    type_group: str

    @property
    def description(self) -> str:
        return f"{self.length}, {self.height}, {self.type_group}"


def parse_size_type(text: str) -> SizeType | None:
    """Decode a 4-character reading such as ``45G1``; ``None`` when it is not a valid code.

    The type letter (3rd) is coerced from a confusable digit (``2261`` -> ``22G1``) and the
    detail (4th) from a confusable letter, because OCR often swaps exactly those.
    """
    s = re.sub(r"[^A-Z0-9]", "", text.upper())
    if len(s) != 4:
        return None
    third = DIGIT_TO_LETTER.get(s[2], s[2]) if s[2].isdigit() else s[2]
    fourth = LETTER_TO_DIGIT.get(s[3], s[3]) if s[3].isalpha() else s[3]
    s = s[:2] + third + fourth
    if not _RE.match(s):
        return None
    length_mm, length = LENGTH_MM[s[0]]
    height_mm, height = HEIGHT_MM[s[1]]
    return SizeType(code=s, length_mm=length_mm, length=length, height_mm=height_mm,
                    height=height, type_group=TYPE_GROUPS[s[2]])
