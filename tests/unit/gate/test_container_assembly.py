"""Joining recognised text boxes into container codes; vertical codes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vision.containers.assemble import TextToken, assemble_codes, serial_only
from vision.containers.vertical import character_rows, stack_to_line


def tok(text: str, box: tuple[float, float, float, float], conf: float = 0.99) -> TextToken:
    return TextToken(text=text, confidence=conf, box=box)


@pytest.mark.parametrize(("tokens", "code", "check_ok", "size_type"), [
    # one box with the whole code, size/type below it
    ([tok("MSKU 413532 9", (456, 253, 685, 300)), tok("22G1", (538, 317, 626, 360))],
     "MSKU4135329", True, "22G1"),
    # owner, serial and a boxed check digit printed a little lower
    ([tok("TGBU", (462, 254, 562, 330)), tok("708333", (527, 275, 655, 360)),
      tok("7", (647, 321, 681, 366)), tok("45G1", (541, 329, 627, 399))],
     "TGBU7083337", True, "45G1"),
    # check digit not read: computed, reported as not verified
    ([tok("DFSU", (556, 273, 645, 343)), tok("438255", (637, 297, 758, 378))],
     "DFSU4382559", None, None),
    # two lines: owner above, serial below
    ([tok("SEKU", (447, 404, 474, 421)), tok("9203379", (446, 422, 496, 438))],
     "SEKU9203379", True, None),
    # two overlapping reads of one serial under its owner code: the complete one wins
    ([tok("SEGU", (1652, 701, 1680, 717)), tok("99414", (1653, 718, 1679, 733)),
      tok("9941418", (1654, 718, 1699, 733))], "SEGU9941418", True, None),
    # overlapping boxes repeat a character ("PSLU2" + "206008" + "8")
    ([tok("PSLU2", (1082, 211, 1254, 276)), tok("206008", (1227, 213, 1393, 275)),
      tok("8", (1405, 213, 1447, 271))], "PSLU2060088", True, None),
    # owner code and serial in one box, the boxed check digit in its own box beside it
    ([tok("PSLU206008", (1080, 209, 1396, 278)), tok("8", (1399, 212, 1447, 270)),
      tok("22G1", (1234, 275, 1346, 342))], "PSLU2060088", True, "22G1"),
    # ... but not a digit far to the right (another label): check digit computed, unverified
    ([tok("PSLU206008", (1080, 209, 1396, 278)), tok("8", (1600, 212, 1647, 270))],
     "PSLU2060088", None, None),
])
def test_assemble(tokens: list[TextToken], code: str, check_ok: bool | None,
                  size_type: str | None) -> None:
    codes = assemble_codes(tokens)
    assert codes, "no code assembled"
    best = codes[0]
    assert best.code == code and best.check_digit_ok is check_ok
    assert (best.size_type.code if best.size_type else None) == size_type


def test_invalid_joining_of_the_same_boxes_is_dropped() -> None:
    tokens = [tok("PSLU2", (1082, 211, 1254, 276)), tok("206008", (1227, 213, 1393, 275)),
              tok("8", (1405, 213, 1447, 271))]
    assert [c.code for c in assemble_codes(tokens)] == ["PSLU2060088"]


def test_garbage_is_not_a_code() -> None:
    # letters coerced into digits everywhere: passing the check digit would be luck
    tokens = [tok("HUZ", (0, 0, 30, 20)), tok("EARTOOL", (35, 0, 120, 20))]
    assert assemble_codes(tokens) == []
    assert serial_only([tok("4006525", (0, 0, 50, 20)), tok("TARE", (0, 30, 40, 50))]) == [
        "4006525"]


def test_vertical_code_becomes_a_line() -> None:
    tall = np.full((7 * 40, 40, 3), 235, np.uint8)
    for k, ch in enumerate("MSKU413"):
        cv2.putText(tall, ch, (8, 40 * k + 32), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (20, 20, 20), 2)
    rows = character_rows(tall)
    assert len(rows) == 7
    line = stack_to_line(tall, height=48)
    assert line.shape[0] == 48 and line.shape[1] > 5 * 30
    blank = np.full((100, 20, 3), 200, np.uint8)
    assert stack_to_line(blank).shape[:2] == (20, 100)  # nothing to split: turned sideways
