"""Square model input from an RGB scan of any size, and the way back for boxes.

The scan is scaled (aspect kept) so its longer side equals ``size`` and padded right/bottom
with white: an X-ray's empty belt is white (full transmission), so padding looks like air,
not like a dense object. Model input layout is uint8 ``[3, size, size]`` (channels first,
R, G, B); the model scales to [0, 1] itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
PAD_VALUE = 255


@dataclass(frozen=True)
class Letterbox:
    """How a source image maps into the model input: ``model = source * scale``
    (no offset: the image sits in the top-left corner)."""

    scale: float
    source_hw: tuple[int, int]
    size: int

    def to_source(self, boxes_xyxy: npt.NDArray[np.floating[Any]]) -> F32:
        """Model-input boxes ``[N, 4]`` -> source-image pixel boxes, clipped to the image."""
        h, w = self.source_hw
        out = np.asarray(boxes_xyxy, dtype=np.float32).reshape(-1, 4) / np.float32(self.scale)
        out[:, 0::2] = np.clip(out[:, 0::2], 0.0, float(w))
        out[:, 1::2] = np.clip(out[:, 1::2], 0.0, float(h))
        return out

    def to_model(self, boxes_xyxy: npt.NDArray[np.floating[Any]]) -> F32:
        """Source-image pixel boxes ``[N, 4]`` -> model-input boxes."""
        return np.asarray(boxes_xyxy, dtype=np.float32).reshape(-1, 4) * np.float32(self.scale)


def letterbox(rgb: U8, size: int) -> tuple[U8, Letterbox]:
    """Resize uint8 RGB ``(H, W, 3)`` (or grey ``(H, W)``, replicated to 3 channels) into a
    white ``(size, size, 3)`` canvas; returns the canvas and the mapping."""
    if size < 32:
        raise ValueError(f"model input size must be >= 32, got {size}")
    img = np.asarray(rgb)
    if img.dtype != np.uint8:
        raise ValueError(f"letterbox expects uint8 pixels, got {img.dtype}")
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] != 3 or img.shape[0] < 1 or img.shape[1] < 1:
        raise ValueError(f"letterbox expects (H, W, 3) or (H, W), got {np.shape(rgb)}")
    h, w = int(img.shape[0]), int(img.shape[1])
    scale = size / max(h, w)
    nh, nw = max(1, min(size, round(h * scale))), max(1, min(size, round(w * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(img, (nw, nh), interpolation=interp)
    canvas = np.full((size, size, 3), PAD_VALUE, dtype=np.uint8)
    canvas[:nh, :nw] = resized
    return canvas, Letterbox(scale=float(scale), source_hw=(h, w), size=size)


def to_chw(canvas: U8) -> U8:
    """``(S, S, 3)`` -> contiguous ``(3, S, S)`` uint8 (the model input layout)."""
    if canvas.ndim != 3 or canvas.shape[2] != 3:
        raise ValueError(f"expected (S, S, 3), got {canvas.shape}")
    return np.ascontiguousarray(canvas.transpose(2, 0, 1))
