"""Irreversible face redaction for images shown to roles that do not need identity.

Each face box (grown by ``margin`` on every side) is pixelated to a coarse grid and then
Gaussian-blurred, so neither a person nor a super-resolution model can recover the identity
from the output; the rest of the image is untouched.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt


def expand_boxes(boxes: npt.NDArray[np.floating], margin: float, width: int,  # type: ignore[type-arg]
                 height: int) -> npt.NDArray[np.int64]:
    """Boxes ``[N, 4]`` xyxy grown by ``margin`` x their size on each side, clipped and rounded
    outwards to integer pixels inside a ``width`` x ``height`` image."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    wh = b[:, 2:] - b[:, :2]
    grown = np.concatenate([b[:, :2] - margin * wh, b[:, 2:] + margin * wh], axis=1)
    out = np.empty_like(grown, dtype=np.int64)
    out[:, :2] = np.floor(grown[:, :2])
    out[:, 2:] = np.ceil(grown[:, 2:])
    out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0, width)
    out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0, height)
    return out


def blur_faces(
    image: npt.NDArray[np.uint8], boxes: npt.NDArray[np.floating[Any]],
    *, margin: float = 0.2, blocks: int = 6,
) -> npt.NDArray[np.uint8]:
    """A copy of ``image`` (uint8 ``[H, W, 3]`` or ``[H, W]``) with every face box redacted:
    pixelated to ``blocks`` x ``blocks`` cells, then blurred."""
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"image must be uint8 [H, W(, C)], got {image.dtype} {image.shape}")
    if not 0.0 <= margin <= 1.0:
        raise ValueError(f"margin must be in [0, 1], got {margin}")
    if not 2 <= blocks <= 32:
        raise ValueError(f"blocks must be in [2, 32], got {blocks}")
    out = image.copy()
    h, w = image.shape[:2]
    for x0, y0, x1, y1 in expand_boxes(boxes, margin, w, h):
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        region = out[y0:y1, x0:x1]
        coarse = cv2.resize(region, (blocks, blocks), interpolation=cv2.INTER_AREA)
        pix = cv2.resize(coarse, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
        k = max(3, (min(x1 - x0, y1 - y0) // blocks) | 1)
        out[y0:y1, x0:x1] = cv2.GaussianBlur(pix, (k, k), 0)
    return out
