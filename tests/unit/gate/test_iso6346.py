"""ISO 6346: check digit, layout coercion, single-confusable repair, size/type, voting."""

from __future__ import annotations

import pytest

from vision.containers.iso6346 import (
    check_and_correct,
    check_digit,
    coerce_to_layout,
    find_codes,
    is_valid,
)
from vision.containers.size_type import parse_size_type
from vision.containers.vote import CodeReading, vote

# Codes read off the real photos in realdata/containers (all pass the check digit).
REAL_CODES = ["MSKU4135329", "DFSU4382559", "EISU9458864", "TGBU7083337", "CMAU0051548",
              "CADU4006525", "GLDU5416136", "TTNU4172731", "PSSU1102456", "BSIU2253788",
              "CLVU2500746", "TTNU9293063", "PSLU2060088", "SEKU9203379", "TEMU9545687"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_pass(code: str) -> None:
    assert is_valid(code)
    assert check_digit(code[:10]) == int(code[10])


@pytest.mark.parametrize(("first10", "digit"), [
    ("CSQU305438", 3),  # the ISO 6346 standard's worked example
    ("MSKU413532", 9),
    ("UACU813346", 0),  # remainder 10 -> 0
])
def test_check_digit(first10: str, digit: int) -> None:
    assert check_digit(first10) == digit


@pytest.mark.parametrize("bad", ["CSQU30543", "CSQU3054383", "csqu305438", "1SQU305438", ""])
def test_check_digit_rejects_malformed(bad: str) -> None:
    with pytest.raises(ValueError):
        check_digit(bad)


@pytest.mark.parametrize(("code", "valid"), [
    ("CSQU3054383", True), ("CSQU3054384", False), ("CSQX3054383", False),
    ("CSQU305438", False), ("CSQU30543833", False),
])
def test_is_valid(code: str, valid: bool) -> None:
    assert is_valid(code) is valid


@pytest.mark.parametrize(("raw", "coerced"), [
    ("MSKU4I35329", "MSKU4135329"),  # I in the serial -> 1
    ("MSKV4135329", "MSKU4135329"),  # category V -> U
    ("M5KU4135329", "MSKU4135329"),  # 5 in the owner code -> S
    ("CMAU0O51548", "CMAU0051548"),
])
def test_coerce_to_layout(raw: str, coerced: str) -> None:
    assert coerce_to_layout(raw) == coerced


@pytest.mark.parametrize(("reading", "code", "valid", "corrected"), [
    ("MSKU 413532 9", "MSKU4135329", True, False),  # separators only
    ("MSKU4I35329", "MSKU4135329", True, True),  # class coercion
    ("MSKU413S329", "MSKU4135329", True, True),  # S in a digit slot -> 5
    ("GLDU54I6136", "GLDU5416136", True, True),
    ("TGBU7083331", "TGBU7083337", True, True),  # 1/7 confusion in the check digit
    ("MSKU4135328", "MSKU4135328", False, False),  # wrong digit with no confusable repair
    ("UACU813346", "UACU813346", False, False),  # check digit not visible
])
def test_check_and_correct(reading: str, code: str, valid: bool, corrected: bool) -> None:
    res = check_and_correct(reading)
    assert res.code == code
    assert res.valid is valid
    assert (res.corrected_from is not None and res.code != res.corrected_from) is corrected


def test_ambiguous_repair_needs_recogniser_probabilities() -> None:
    # G/C and O/D both give a valid code: without probabilities nothing is chosen
    res = check_and_correct("GLOU5416136")
    assert not res.valid and res.ambiguous
    probs = [{c: 0.9} for c in "GLOU5416136"]
    probs[2] = {"O": 0.5, "D": 0.45}  # the recogniser hesitated between O and D only
    res = check_and_correct("GLOU5416136", probs)
    assert res.valid and res.code == "GLDU5416136"


@pytest.mark.parametrize(("text", "codes"), [
    ("MSKU 4135329 22G1", ["MSKU4135329"]),
    ("EISU9458864ERGRE", ["EISU9458864"]),
    ("TARE 3.900KG", []),
    ("UACU 813346", ["UACU813346"]),
    ("xx CSQU3054383 and MSKU4135329", ["CSQU3054383", "MSKU4135329"]),
])
def test_find_codes(text: str, codes: list[str]) -> None:
    assert find_codes(text) == codes


@pytest.mark.parametrize(("text", "code", "length_mm", "group"), [
    ("45G1", "45G1", 12192, "general purpose"),
    ("22G1", "22G1", 6058, "general purpose"),
    ("2261", "22G1", 6058, "general purpose"),  # G read as 6
    ("L5R1", "L5R1", 13716, "refrigerated / heated"),
    ("42U1", "42U1", 12192, "open top"),
])
def test_size_type(text: str, code: str, length_mm: int, group: str) -> None:
    st = parse_size_type(text)
    assert st is not None
    assert (st.code, st.length_mm, st.type_group) == (code, length_mm, group)


@pytest.mark.parametrize("text", ["TARE", "2210", "99G1", "45X1", "45G", ""])
def test_size_type_rejects(text: str) -> None:
    assert parse_size_type(text) is None


def test_vote_prefers_valid_readings() -> None:
    v = vote([CodeReading("MSKU4135328", 0.99), CodeReading("MSKU4135329", 0.6),
              CodeReading("MSKU 413532 9", 0.7)])
    assert v is not None
    assert (v.code, v.valid, v.support, v.total) == ("MSKU4135329", True, 2, 3)


def test_vote_per_position_when_none_valid() -> None:
    # each reading has one different wrong character; the per-position vote restores the code
    v = vote([CodeReading("MSKU4135320", 0.8), CodeReading("MSKU4136329", 0.8),
              CodeReading("MSKU7135329", 0.8)])
    assert v is not None and v.code == "MSKU4135329" and v.valid


def test_vote_empty_and_bad_confidence() -> None:
    assert vote([]) is None
    with pytest.raises(ValueError):
        vote([CodeReading("MSKU4135329", 1.5)])
