"""Plate grammars and grammar-constrained CTC decoding."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit.gate.factories import CHARSET, ctc_probs
from vision.plates.ctc_constrained import (
    CharsetIndex,
    decode_best,
    decode_template,
    greedy_restricted,
)
from vision.plates.grammar import (
    CN_TEMPLATES,
    MN_TEMPLATES,
    PlateTemplate,
    match_template,
    normalise_plate,
    template_by_name,
)
from vision.plates.reading import (
    PlateReading,
    plate_type,
    read_cn,
    read_mn,
    second_opinion_digits,
)

CS = CharsetIndex(CHARSET)


@pytest.mark.parametrize(("text", "template"), [
    ("皖A12345", "cn_standard"),
    ("皖A·12345", "cn_standard"),
    ("京AD12345", "cn_new_energy_small"),
    ("京AFA1234", "cn_new_energy_small"),
    ("京A12345D", "cn_new_energy_large"),
    ("蒙A1234挂", "cn_trailer"),
    ("蒙A1234学", "cn_coach"),
    ("京A1234警", "cn_police"),
    ("粤Z1234港", "cn_hk_macau"),
    ("沪A1707领", "cn_consulate"),
    ("使014578", "cn_embassy"),
    ("使01457A", None),  # embassy serials are digits
    ("1537УНЛ", "mn_standard"),
    ("1537 унл", "mn_standard"),
    ("皖I12345", None),  # no I after the province
    ("皖A1234", None),  # too short
    ("XA12345", None),  # not a province
    ("1537ULN", None),  # Latin instead of Cyrillic
    ("153УНЛ", None),
])
def test_match_template(text: str, template: str | None) -> None:
    tpl = match_template(text)
    assert (tpl.name if tpl else None) == template


def test_normalise_and_lookup() -> None:
    assert normalise_plate("皖A·123-45") == "皖A12345"
    assert template_by_name("mn_standard").length == 7
    with pytest.raises(ValueError):
        template_by_name("nope")
    with pytest.raises(ValueError):
        PlateTemplate("bad", MN_TEMPLATES[0].country, (frozenset(),), None)


@pytest.mark.parametrize(("spoken", "alternatives", "expected"), [
    ("皖A12345", {}, "皖A12345"),
    ("皖A·12345", {}, "皖A12345"),  # the separator counts as blank
    # O is not allowed on a plate: the model's second choice 0 wins at that position
    ("皖AO2345", {2: ("0", 0.3)}, "皖A02345"),
    # 8 in the city-letter slot: only letters are allowed there, the second choice B wins
    ("皖812345", {1: ("B", 0.2)}, "皖B12345"),
])
def test_constrained_decoding_settles_confusables(spoken: str, alternatives: dict[int, tuple[
        str, float]], expected: str) -> None:
    r = decode_best(ctc_probs(spoken, alternatives=alternatives), CS, CN_TEMPLATES)
    assert r is not None and r.text == expected


def test_repeated_characters_need_a_blank_between() -> None:
    # "11" spelled with a blank between the two 1s decodes as two characters
    r = decode_template(ctc_probs("皖A11345"), CS, template_by_name("cn_standard"))
    assert r is not None and r.text == "皖A11345"
    assert r.penalty < 0.5


def test_missing_character_has_low_confidence() -> None:
    r = decode_template(ctc_probs("皖A12345", missing=[0]), CS, template_by_name("cn_standard"))
    assert r is not None
    assert r.char_conf[0] < 0.05 and min(r.char_conf[1:]) > 0.8
    assert r.confidence == min(r.char_conf)


def test_impossible_templates() -> None:
    short = ctc_probs("12")[:3]
    assert decode_template(short, CS, template_by_name("cn_standard")) is None
    # a template whose characters are all missing from the charset cannot be spelled
    assert decode_template(ctc_probs("皖A12345"), CS, template_by_name("cn_hk_macau")) is None
    with pytest.raises(ValueError):
        decode_template(np.zeros((5, 3), np.float32), CS, template_by_name("cn_standard"))


def test_mongolian_and_length_choice() -> None:
    r = decode_best(ctc_probs("1537УНЛ"), CS, MN_TEMPLATES)
    assert r is not None and r.text == "1537УНЛ"
    # an 8-character new-energy plate is not squeezed into 7 characters
    r = decode_best(ctc_probs("京AD12345"), CS, CN_TEMPLATES)
    assert r is not None and r.template.name == "cn_new_energy_small"


def test_colour_prior_and_type_names() -> None:
    probs = ctc_probs("蒙A1234挂")
    r = read_cn(probs, CS, "yellow", rows=2)
    assert r is not None and r.text == "蒙A1234挂" and r.plate_type == "cn_yellow_trailer_double"
    r = read_cn(ctc_probs("皖A12345"), CS, "blue", rows=1)
    assert r is not None and r.plate_type == "cn_blue"
    m = read_mn(ctc_probs("1537УНЛ"), CS, rows=2)
    assert m is not None and m.plate_type == "mn_two_row"
    assert plate_type(template_by_name("cn_new_energy_large"), "green", 1) == \
        "cn_green_new_energy_large"


def test_greedy_restricted_drops_foreign_characters() -> None:
    probs = ctc_probs("MS皖KU", alternatives={2: ("K", 0.05)})
    r = greedy_restricted(probs, CS, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    assert r.text in ("MSKU", "MSKKU")
    assert len(r.char_probs) == len(r.text)
    assert r.text == "MSKU" or r.char_probs[2]["K"] < 0.5
    with pytest.raises(ValueError):
        greedy_restricted(probs, CS, "ЖЖ")


def test_spans_locate_each_character() -> None:
    probs = ctc_probs("皖A12345")  # blank frame, then 2 frames + 1 blank per character
    r = decode_template(probs, CS, template_by_name("cn_standard"))
    assert r is not None and len(r.spans) == 7
    assert r.spans == tuple((1 + 3 * i, 2 + 3 * i) for i in range(7))
    reading = read_cn(probs, CS, "blue", 1)
    assert reading is not None and reading.spans == r.spans


def _brute_force_best(probs: np.ndarray, chars: str, positions: list[str]) -> float:
    """Best log-probability over every CTC path (blank = class 0) that collapses to a string
    fitting ``positions``, by enumeration."""
    import itertools

    best = -np.inf
    for path in itertools.product(range(len(chars) + 1), repeat=probs.shape[0]):
        collapsed, prev = [], 0
        for k in path:
            if k != 0 and k != prev:
                collapsed.append(chars[k - 1])
            prev = k
        if len(collapsed) == len(positions) and all(
                c in allowed for c, allowed in zip(collapsed, positions, strict=True)):
            best = max(best, float(sum(np.log(probs[t, k]) for t, k in enumerate(path))))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_constrained_decoding_is_the_exact_best_path(seed: int) -> None:
    rng = np.random.default_rng(seed)
    chars = "AB1"
    positions = ["AB", "AB1", "1B"]
    cs = CharsetIndex(("<blank>", *chars))
    tpl = PlateTemplate("tiny", template_by_name("cn_standard").country,
                        tuple(frozenset(p) for p in positions), None)
    probs = rng.dirichlet(np.full(len(chars) + 1, 0.7), size=6)
    r = decode_template(probs, cs, tpl)
    want = _brute_force_best(probs, chars, positions)
    assert r is not None and r.log_score == pytest.approx(want, abs=1e-6)
    assert tpl.accepts(r.text)
    assert all(a <= b for a, b in r.spans) and all(
        r.spans[i][1] < r.spans[i + 1][0] for i in range(len(r.spans) - 1))


def _mn_reading(probs: np.ndarray) -> PlateReading:
    r = read_mn(probs, CS, rows=2)
    assert r is not None
    return r


def test_ppocr_second_opinion_settles_a_digit_the_crnn_was_unsure_of() -> None:
    """The CRNN reads the plate face's DIN 1 as 7 (0.9 vs 0.08); PP-OCR reads 1 (0.95 vs 0.01)
    and spells the Cyrillic letters as Latin look-alikes (Y H A): the product says 1."""
    crnn = ctc_probs("7537УНЛ", alternatives={0: ("1", 0.08)})
    ppocr = ctc_probs("1537YHA", alternatives={0: ("7", 0.01)})
    assert _mn_reading(crnn).text == "7537УНЛ"
    fused = second_opinion_digits(_mn_reading(crnn), crnn, CS, ppocr, CS)
    assert fused.text == "1537УНЛ"
    assert 0.5 < fused.char_conf[0] < 1.0
    assert fused.char_conf[4:] == _mn_reading(crnn).char_conf[4:]  # letters stay the CRNN's


def test_ppocr_second_opinion_agreeing_digits_keep_the_text_and_gain_confidence() -> None:
    crnn = ctc_probs("3386УБТ", peak=0.7)
    fused = second_opinion_digits(_mn_reading(crnn), crnn, CS, ctc_probs("3386Y5T"), CS)
    assert fused.text == "3386УБТ"
    assert all(f > c for f, c in zip(fused.char_conf[:4], _mn_reading(crnn).char_conf[:4],
                                     strict=True))


@pytest.mark.parametrize("other", [
    "1234YHA",  # PP-OCR read another line (3 of 4 digits differ): no evidence about these
    "",  # nothing PP-OCR can spell as 4 digits + 3 characters
])
def test_ppocr_second_opinion_is_ignored_when_the_readers_disagree(other: str) -> None:
    crnn = ctc_probs("7537УНЛ", alternatives={0: ("1", 0.08)})
    reading = _mn_reading(crnn)
    assert second_opinion_digits(reading, crnn, CS, ctc_probs(other), CS) == reading


def test_ppocr_second_opinion_leaves_chinese_readings_alone() -> None:
    probs = ctc_probs("皖A12345")
    r = read_cn(probs, CS, "blue", 1)
    assert r is not None
    assert second_opinion_digits(r, probs, CS, ctc_probs("1537YHA"), CS) == r
