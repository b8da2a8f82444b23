"""Input and charset of the Mongolian plate recogniser (``plate_rec_mn``, a small CRNN/CTC).

Input: float32 ``[N, 1, 32, 128]``, grey, contrast-stretched (2nd-98th percentile to 0-255) then
``(v / 255 - 0.5) / 0.5``. A one-row plate crop is stretched to 128x32; a two-row plate is first
turned into one line (top row then bottom row, :func:`vision.plates.rectify.two_rows_to_line`).
Output: float32 ``[N, 32, C]`` softmax over :data:`MN_CHARSET` (class 0 = CTC blank).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from vision.ocr_det import as_bgr
from vision.plates.grammar import DIGITS, MN_LETTERS

MN_INPUT_HEIGHT = 32
MN_INPUT_WIDTH = 128
MN_STEPS = 32  # the network downsamples the width by 4
BLANK = "<blank>"
MN_CHARSET: tuple[str, ...] = (BLANK, *DIGITS, *MN_LETTERS)


def mn_preprocess(crop: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """One single-line plate crop (uint8 BGR/grey/BGRA) -> float32 ``[1, 32, 128]``."""
    if crop.size == 0:
        raise ValueError(f"empty crop of shape {crop.shape}")
    grey = cv2.cvtColor(as_bgr(crop), cv2.COLOR_BGR2GRAY)
    resized = cv2.resize(grey, (MN_INPUT_WIDTH, MN_INPUT_HEIGHT),
                         interpolation=cv2.INTER_AREA).astype(np.float32)
    lo, hi = np.percentile(resized, (2, 98))
    if hi - lo < 1.0:
        hi = lo + 1.0
    stretched = np.clip((resized - lo) / (hi - lo), 0.0, 1.0)
    out: npt.NDArray[np.float32] = ((stretched - np.float32(0.5)) / np.float32(0.5))[None].astype(
        np.float32)
    return out


def mn_batch(crops: Sequence[npt.NDArray[np.uint8]]) -> npt.NDArray[np.float32]:
    """Several crops -> float32 ``[N, 1, 32, 128]``."""
    if not crops:
        raise ValueError("no crops")
    return np.stack([mn_preprocess(c) for c in crops])
