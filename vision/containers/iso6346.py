"""ISO 6346 container identification: ``OOOC SSSSSS D`` (owner, category, serial, check digit).

- ``OOO``: owner code, 3 Latin capital letters;
- ``C``: equipment category, ``U`` (freight container), ``J`` (detachable equipment),
  ``Z`` (trailer / chassis);
- ``SSSSSS``: serial number, 6 digits;
- ``D``: check digit, computed from the first 10 characters.

Check digit: letters take the values 10..38 skipping multiples of 11 (A=10, B=12, ... K=21,
L=23, ... U=32, V=34, ... Z=38), digits their own value; sum ``value * 2**position`` over the
10 characters, then ``(sum % 11) % 10``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vision.ocr_confusables import DIGIT_TO_LETTER, LETTER_TO_DIGIT, alternatives

CATEGORIES = frozenset("UJZ")
CODE_LEN = 11
_CODE_RE = re.compile(r"^[A-Z]{3}[UJZ]\d{7}$")


def _letter_values() -> dict[str, int]:
    values: dict[str, int] = {}
    v = 10
    for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if v % 11 == 0:
            v += 1
        values[ch] = v
        v += 1
    return values


LETTER_VALUES: dict[str, int] = _letter_values()


def check_digit(first10: str) -> int:
    """Check digit (0-9) of the first 10 characters ``OOOCSSSSSS``.

    Raises ``ValueError`` unless ``first10`` is 4 capital letters then 6 digits (the category
    letter is not restricted here so that the arithmetic can be tested on any owner code).
    """
    if len(first10) != 10 or not re.match(r"^[A-Z]{4}\d{6}$", first10):
        raise ValueError(f"need 4 capital letters + 6 digits, got {first10!r}")
    total = 0
    for i, ch in enumerate(first10):
        total += (LETTER_VALUES[ch] if ch.isalpha() else int(ch)) << i
    return total % 11 % 10


def is_valid(code: str) -> bool:
    """True when ``code`` is a well-formed 11-character ISO 6346 code with a correct check digit."""
    return bool(_CODE_RE.match(code)) and check_digit(code[:10]) == int(code[10])


def normalise(text: str) -> str:
    """Upper-case and drop spaces, dots, dashes and other separators a camera or a human adds."""
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def coerce_to_layout(text: str) -> str:
    """Map characters into the class each position allows (letters 0-3, digits 4-10).

    ``MSKU4I35329`` -> ``MSKU4135329``. Characters with no known coercion are kept, so the result
    may still be malformed; only positions that exist in ``text`` are touched.
    """
    out = []
    for i, ch in enumerate(text[:CODE_LEN]):
        if i < 4 and ch.isdigit():
            out.append(DIGIT_TO_LETTER.get(ch, ch))
        elif i >= 4 and ch.isalpha():
            out.append(LETTER_TO_DIGIT.get(ch, ch))
        else:
            out.append(ch)
    if len(out) > 3 and out[3] not in CATEGORIES and out[3] == "V":
        out[3] = "U"  # the category letter is almost always U; V is its usual misreading
    return "".join(out) + text[CODE_LEN:]


@dataclass(frozen=True)
class CodeCheck:
    """Outcome of checking (and possibly repairing) one reading.

    ``code``: the best 11-character code (the input when nothing could be done);
    ``valid``: the returned code passes the check digit;
    ``corrected_from``: the raw reading when ``code`` differs from it (else ``None``);
    ``ambiguous``: more than one single-character repair gave a valid code (none chosen).
    """

    code: str
    valid: bool
    corrected_from: str | None = None
    ambiguous: bool = False


def _single_substitutions(code: str,
                          char_probs: Sequence[Mapping[str, float]] | None = None) -> list[str]:
    """Valid codes one substitution away: a known confusable of the read character, or one of
    the recogniser's own alternatives for it (``char_probs``, probability >= 0.05)."""
    found: list[str] = []
    for i, ch in enumerate(code):
        options = set(alternatives(ch))
        if char_probs is not None and i < len(char_probs):
            options |= {c for c, p in char_probs[i].items() if p >= 0.05 and c != ch}
        for alt in sorted(options):
            if (i < 4) != alt.isalpha():  # keep each position in its class
                continue
            cand = code[:i] + alt + code[i + 1:]
            if is_valid(cand):
                found.append(cand)
    return found


def _prob_of(code: str, char_probs: Sequence[Mapping[str, float]]) -> float:
    """Product of the recogniser's probabilities of ``code``'s characters (a floor of 1e-4
    for characters the recogniser did not list)."""
    p = 1.0
    for ch, probs in zip(code, char_probs, strict=False):
        p *= max(probs.get(ch, 0.0), 1e-4)
    return p


def check_and_correct(reading: str,
                      char_probs: Sequence[Mapping[str, float]] | None = None) -> CodeCheck:
    """Validate a reading; repair it when exactly one confusable substitution makes it valid.

    Steps: normalise separators, coerce each position to its class (letter/digit), then, if the
    check digit still fails, try every single confusable substitution (``8``/``B``, ``0``/``O``,
    ``1``/``I``, ``5``/``S``, ...) that keeps the layout; a unique valid candidate is taken.
    When several are valid and ``char_probs`` (per character of the normalised reading, the
    recogniser's probabilities of its top alternatives) is given, the candidate the recogniser
    finds at least 3 times likelier than every other one is taken; otherwise none (ambiguous).
    Readings of 10 characters (check digit not visible) are returned as not valid, unrepaired.
    """
    raw = normalise(reading)
    code = coerce_to_layout(raw)
    if len(code) != CODE_LEN:
        return CodeCheck(code=code, valid=False, corrected_from=raw if code != raw else None)
    if is_valid(code):
        return CodeCheck(code=code, valid=True, corrected_from=raw if code != raw else None)
    if not _CODE_RE.match(code):
        return CodeCheck(code=code, valid=False, corrected_from=raw if code != raw else None)
    probs = char_probs if char_probs is not None and len(char_probs) == len(code) else None
    candidates = sorted(set(_single_substitutions(code, probs)))
    if len(candidates) == 1:
        return CodeCheck(code=candidates[0], valid=True, corrected_from=raw)
    if len(candidates) > 1 and probs is not None:
        scored = sorted(((_prob_of(c, probs), c) for c in candidates), reverse=True)
        if scored[0][0] >= 3.0 * scored[1][0]:
            return CodeCheck(code=scored[0][1], valid=True, corrected_from=raw)
    return CodeCheck(code=code, valid=False, corrected_from=raw if code != raw else None,
                     ambiguous=len(candidates) > 1)


def find_codes(text: str) -> list[str]:
    """All 10/11-character code-shaped substrings of a normalised OCR text, left to right.

    Looks for ``[A-Z]{3}[UJZ]`` followed by 6-7 digits after class coercion of the 7 following
    characters; returns raw (uncorrected) substrings for :func:`check_and_correct`.
    """
    s = normalise(text)
    out: list[str] = []
    i = 0
    while i + 10 <= len(s):
        window = s[i:i + CODE_LEN]
        coerced = coerce_to_layout(window)
        if re.match(r"^[A-Z]{3}[UJZ]\d{6}", coerced):
            n = CODE_LEN if re.match(r"^[A-Z]{3}[UJZ]\d{7}$", coerced) else 10
            out.append(window[:n])
            i += n
        else:
            i += 1
    return out
