"""Characters that OCR engines confuse on plates and container codes, as one shared table.

Used by grammar-aware decoding (coerce a character into the class a position allows), by the
ISO 6346 single-error correction and by the confusion-aware distance of declaration matching.
All characters are upper-case; the table is symmetric (if ``a`` confuses with ``b``, then ``b``
confuses with ``a``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# Pairs seen in PP-OCR / CRNN readings of plates and containers (digit <-> letter mostly).
_PAIRS: tuple[tuple[str, str], ...] = (
    ("0", "O"), ("0", "D"), ("0", "Q"), ("O", "D"), ("O", "Q"), ("D", "Q"),
    ("1", "I"), ("1", "L"), ("1", "T"), ("1", "J"), ("I", "L"), ("I", "T"),
    ("2", "Z"), ("5", "S"), ("6", "G"), ("8", "B"), ("3", "B"), ("4", "A"),
    ("7", "T"), ("7", "Z"), ("1", "7"), ("9", "G"), ("U", "V"), ("U", "J"), ("M", "N"), ("H", "N"),
    ("E", "F"), ("P", "R"), ("K", "X"), ("C", "G"), ("W", "V"),
    # Cyrillic plate letters against look-alike Latin letters and digits.
    ("З", "3"), ("О", "0"), ("Б", "6"), ("Ч", "4"), ("Э", "3"), ("Ц", "Ш"), ("Ү", "У"),
    ("Ө", "О"), ("Н", "Х"), ("Г", "Т"), ("Л", "П"), ("Д", "Л"),
)


def _build(pairs: Iterable[tuple[str, str]]) -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for a, b in pairs:
        table.setdefault(a, set()).add(b)
        table.setdefault(b, set()).add(a)
    return {k: frozenset(v) for k, v in table.items()}


CONFUSABLES: Mapping[str, frozenset[str]] = _build(_PAIRS)

# Preferred coercion when a position allows only digits (or only letters): the single most
# likely intended character. Kept explicit because a set has no order.
LETTER_TO_DIGIT: Mapping[str, str] = {
    "O": "0", "D": "0", "Q": "0", "I": "1", "L": "1", "J": "1", "T": "7", "Z": "2", "S": "5",
    "G": "6", "B": "8", "A": "4",
    "З": "3", "О": "0", "Б": "6", "Ч": "4", "Э": "3",
}
DIGIT_TO_LETTER: Mapping[str, str] = {
    "0": "O", "1": "I", "2": "Z", "5": "S", "6": "G", "8": "B", "4": "A", "7": "T", "3": "B",
    "9": "G",
}


def confusable(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` (single characters, any case) are a known OCR confusion."""
    a, b = a.upper(), b.upper()
    return a != b and b in CONFUSABLES.get(a, frozenset())


def alternatives(ch: str) -> frozenset[str]:
    """Characters ``ch`` is commonly confused with (empty when none are known)."""
    return CONFUSABLES.get(ch.upper(), frozenset())
