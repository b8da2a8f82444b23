"""Input preparation for PP-OCR text-recognition models (input ``x``: float32 ``[N, 3, 48, W]``).

Same arithmetic as PaddleOCR / RapidOCR ``resize_norm_img``: keep the aspect ratio, resize to the
model height, scale to [-1, 1] (``(v / 255 - 0.5) / 0.5``), and zero-pad on the right up to the
batch width. Unlike RapidOCR we pad every crop to one fixed ``width`` so that all requests have the
same shape; Triton's dynamic batcher only merges requests of equal shape.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

REC_HEIGHT = 48
REC_WIDTH = 320  # PaddleOCR's default rec_image_shape [3, 48, 320]


def _as_bgr(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    if image.dtype != np.uint8:
        raise ValueError(f"image must be uint8, got {image.dtype}")
    if image.ndim == 2:
        return np.ascontiguousarray(np.repeat(image[:, :, None], 3, axis=2))
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    if image.ndim == 3 and image.shape[2] == 1:
        return np.ascontiguousarray(np.repeat(image, 3, axis=2))
    raise ValueError(f"image must be HxW or HxWx3 (BGR) or HxWx1, got shape {image.shape}")


def resize_normalize_rec(
    image: npt.NDArray[np.uint8], height: int = REC_HEIGHT, width: int = REC_WIDTH
) -> npt.NDArray[np.float32]:
    """One text-line crop (uint8, ``HxWx3`` BGR, or ``HxW`` grey) -> float32 ``[3, height, width]``.

    The crop is resized to ``height`` keeping its aspect ratio; crops wider than
    ``width / height`` are squeezed to ``width``. Values are in [-1, 1]; the right-hand padding
    is 0 (mid grey), as in PaddleOCR.
    """
    if height < 1 or width < 1:
        raise ValueError(f"height and width must be >= 1, got {height}x{width}")
    bgr = _as_bgr(image)
    h, w = bgr.shape[:2]
    if h == 0 or w == 0:
        raise ValueError(f"empty image of shape {image.shape}")
    resized_w = min(width, max(1, math.ceil(height * w / h)))
    resized = cv2.resize(bgr, (resized_w, height), interpolation=cv2.INTER_LINEAR)
    chw = resized.astype(np.float32).transpose(2, 0, 1) / np.float32(255.0)
    out = np.zeros((3, height, width), dtype=np.float32)
    out[:, :, :resized_w] = (chw - np.float32(0.5)) / np.float32(0.5)
    return out


def rec_batch(
    images: Sequence[npt.NDArray[np.uint8]], height: int = REC_HEIGHT, width: int = REC_WIDTH
) -> npt.NDArray[np.float32]:
    """Several crops -> float32 ``[N, 3, height, width]`` (see :func:`resize_normalize_rec`)."""
    if not images:
        raise ValueError("no images")
    return np.stack([resize_normalize_rec(im, height, width) for im in images])
