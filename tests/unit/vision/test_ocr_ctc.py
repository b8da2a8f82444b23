"""CTC greedy decoding: merge repeats, then drop blanks; shapes and charset checks."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from vision.ocr_ctc import BLANK_TOKEN, ctc_greedy_decode, ctc_greedy_decode_indices, ppocr_charset

Array = npt.NDArray[Any]

CHARSET = ppocr_charset(["A", "B", "1"])  # blank=0, A=1, B=2, 1=3, " "=4


def _one_hot(rows: list[list[int]], p: float = 0.9) -> Array:
    n_classes = len(CHARSET)
    out = np.full((len(rows), len(rows[0]), n_classes), (1 - p) / (n_classes - 1), np.float32)
    for b, row in enumerate(rows):
        for t, c in enumerate(row):
            out[b, t, c] = p
    return out


def test_ppocr_charset_layout() -> None:
    assert CHARSET == (BLANK_TOKEN, "A", "B", "1", " ")


@pytest.mark.parametrize(
    ("steps", "text"),
    [
        ([1, 1, 0, 1, 2, 2, 3], "AAB1"),  # a repeat separated by a blank is kept
        ([0, 0, 0, 0, 0, 0, 0], ""),
        ([3, 3, 3, 3, 3, 3, 3], "1"),
        ([1, 4, 2, 0, 0, 0, 0], "A B"),  # the trailing class is a space
        ([2, 0, 2, 0, 2, 0, 2], "BBBB"),
    ],
)
def test_greedy_decode_table(steps: list[int], text: str) -> None:
    (result,) = ctc_greedy_decode(_one_hot([steps]), CHARSET)
    assert result.text == text
    assert result.confidence == (pytest.approx(0.9) if text else 0.0)


def test_batch_rows_are_independent() -> None:
    results = ctc_greedy_decode(_one_hot([[1, 0, 2], [3, 3, 0]]), CHARSET)
    assert [r.text for r in results] == ["AB", "1"]


def test_confidence_is_mean_of_kept_steps() -> None:
    idx = np.array([[1, 1, 0, 2]])
    scores = np.array([[0.5, 0.9, 0.99, 0.7]], np.float32)
    (result,) = ctc_greedy_decode_indices(idx, scores, CHARSET)
    assert result.text == "AB"
    assert result.confidence == pytest.approx((0.5 + 0.7) / 2)


@pytest.mark.parametrize(
    ("probs", "message"),
    [
        (np.zeros((2, 5), np.float32), r"\[N, T, C\]"),
        (np.zeros((1, 5, 4), np.float32), "classes"),
    ],
)

def test_bad_shapes_raise(probs: Array, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ctc_greedy_decode(probs, CHARSET)


def test_index_out_of_range_and_shape_mismatch_raise() -> None:
    with pytest.raises(ValueError, match="out of range"):
        ctc_greedy_decode_indices(np.array([[9]]), np.ones((1, 1)), CHARSET)
    with pytest.raises(ValueError, match="shape"):
        ctc_greedy_decode_indices(np.array([[1, 2]]), np.ones((1, 3)), CHARSET)


@pytest.mark.parametrize("lines", [[], ["A", "", "B"]])
def test_bad_dictionary_raises(lines: list[str]) -> None:
    with pytest.raises(ValueError):
        ppocr_charset(lines)
