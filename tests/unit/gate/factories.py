"""Tiny synthetic inputs for the gate tests: CTC probability matrices and plate images."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import cv2
import numpy as np
import numpy.typing as npt

CHARSET: tuple[str, ...] = ("<blank>", *"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", "皖", "京", "蒙",
                            "挂", "·", "У", "Н", "Л", "Б", "Т")


def ctc_probs(text: str, charset: Sequence[str] = CHARSET, frames_per_char: int = 2,
              peak: float = 0.9, alternatives: Mapping[int, tuple[str, float]] | None = None,
              missing: Sequence[int] = ()) -> npt.NDArray[np.float32]:
    """``[T, C]`` probabilities spelling ``text``: a blank frame, then ``frames_per_char``
    frames per character. ``alternatives[i] = (char, p)`` adds a second choice at character
    ``i``; characters listed in ``missing`` get only blank-ish frames (the model saw nothing)."""
    alternatives = alternatives or {}
    steps = 1 + len(text) * (frames_per_char + 1)
    p = np.full((steps, len(charset)), 1e-4)
    p[:, 0] = 1.0
    t = 1
    for i, ch in enumerate(text):
        for _ in range(frames_per_char):
            if i not in missing:
                p[t] = 1e-4
                p[t, charset.index(ch)] = peak
                if i in alternatives:
                    alt, ap = alternatives[i]
                    p[t, charset.index(alt)] = ap
            t += 1
        t += 1
    out: npt.NDArray[np.float32] = (p / p.sum(axis=1, keepdims=True)).astype(np.float32)
    return out


def blue_plate(text_width: int = 300, height: int = 96) -> npt.NDArray[np.uint8]:
    """A flat blue plate (BGR) with white bars standing in for characters."""
    plate = np.zeros((height, text_width, 3), np.uint8)
    plate[:] = (200, 80, 20)  # BGR blue
    for k in range(7):
        x = 18 + k * 40
        cv2.rectangle(plate, (x, 18), (x + 22, height - 18), (255, 255, 255), -1)
    return plate


def scene_with(plate: npt.NDArray[np.uint8], corners: npt.NDArray[np.float32],
               size: tuple[int, int] = (480, 640), background: int = 120
               ) -> npt.NDArray[np.uint8]:
    """``plate`` warped into a grey scene so that its corners land on ``corners``
    (TL, TR, BR, BL)."""
    h, w = plate.shape[:2]
    src = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32)
    m = cv2.getPerspectiveTransform(src, corners.astype(np.float32))
    scene = np.full((*size, 3), background, np.uint8)
    warped = cv2.warpPerspective(plate, m, (size[1], size[0]))
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), m, (size[1], size[0]))
    scene[mask > 0] = warped[mask > 0]
    return scene
