"""CTC greedy decoding for text-recognition models (PP-OCR rec and friends).

A CTC recogniser emits, for every image in a batch, ``T`` time steps (columns of the image) with a
score per class. Class 0 is the CTC *blank*; classes ``1..C-1`` index a charset. Greedy decoding
takes the best class per step, merges consecutive repeats, then drops blanks.

PP-OCR convention (what :func:`ppocr_charset` builds): ``charset[0]`` is the blank, then the lines
of the model's dictionary in order, then one trailing space ``" "``. For PP-OCRv6 rec that gives
``C = 18710`` classes (18708 dictionary lines + blank + space).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

BLANK_TOKEN = "<blank>"


@dataclass(frozen=True)
class CtcText:
    """One decoded line: ``text`` and ``confidence`` (mean max-probability of the kept steps,
    in [0, 1] when the model outputs probabilities; 0.0 when nothing was kept)."""

    text: str
    confidence: float


def ppocr_charset(dictionary_lines: Sequence[str]) -> tuple[str, ...]:
    """Class table of a PP-OCR rec model from its dictionary lines (one character per line).

    Returns ``(BLANK_TOKEN, *dictionary_lines, " ")``; index ``i`` is the string for class ``i``.
    Raises ``ValueError`` on an empty dictionary or on a line that is empty (a broken file).
    """
    if not dictionary_lines:
        raise ValueError("empty dictionary")
    for i, line in enumerate(dictionary_lines):
        if line == "":
            raise ValueError(f"dictionary line {i + 1} is empty")
    return (BLANK_TOKEN, *dictionary_lines, " ")


def ctc_greedy_decode_indices(
    indices: npt.NDArray[np.integer[Any]],
    step_scores: npt.NDArray[np.floating[Any]],
    charset: Sequence[str],
    blank: int = 0,
) -> list[CtcText]:
    """Decode best-class indices of shape ``[N, T]`` (any integer dtype) with their scores
    ``[N, T]`` (float) into ``N`` texts.

    Repeats are merged before blanks are dropped (``a a - a`` -> ``aa``). Raises ``ValueError``
    on shape mismatch or on an index outside ``charset``.
    """
    if indices.ndim != 2:
        raise ValueError(f"indices must be [N, T], got shape {indices.shape}")
    if step_scores.shape != indices.shape:
        raise ValueError(f"step_scores shape {step_scores.shape} != indices {indices.shape}")
    if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= len(charset)):
        raise ValueError(f"class index out of range for a charset of {len(charset)} entries")
    results: list[CtcText] = []
    for row, scores in zip(indices, step_scores, strict=True):
        keep = np.ones(row.shape[0], dtype=bool)
        keep[1:] = row[1:] != row[:-1]
        keep &= row != blank
        kept = row[keep]
        text = "".join(charset[int(i)] for i in kept)
        conf = float(scores[keep].mean()) if kept.size else 0.0
        results.append(CtcText(text=text, confidence=conf))
    return results


def ctc_greedy_decode(
    probs: npt.NDArray[np.floating[Any]], charset: Sequence[str], blank: int = 0
) -> list[CtcText]:
    """Decode class scores of shape ``[N, T, C]`` (float; PP-OCR rec outputs softmax
    probabilities) into ``N`` texts. ``C`` must equal ``len(charset)``."""
    if probs.ndim != 3:
        raise ValueError(f"probs must be [N, T, C], got shape {probs.shape}")
    if probs.shape[2] != len(charset):
        raise ValueError(f"probs has {probs.shape[2]} classes, charset has {len(charset)}")
    return ctc_greedy_decode_indices(probs.argmax(axis=2), probs.max(axis=2), charset, blank)
