"""Preparing the image the face detector sees, and mapping its answer back.

dlib's HOG detector scans an 80x80 window, so it finds faces of >= ~80 px in the image it is
given (>= ~40 px with one internal upsampling, at ~4x the cost). Gate and document photos are
often 2-20 MP with the face a large fraction of the frame, so we detect on a copy whose longer
side is at most ``max_side`` and cut the chips from the full-resolution image.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

DEFAULT_MAX_SIDE = 1024
HOG_WINDOW_PX = 80


@dataclass(frozen=True)
class DetectionInput:
    """``image``: RGB uint8 ``[h, w, 3]`` to send to the detector; ``scale``: multiply its
    coordinates by this to get original-image pixels (>= 1); ``upsample``: detector upsampling
    steps (0-2)."""

    image: npt.NDArray[np.uint8]
    scale: float
    upsample: int


def detection_input(
    rgb: npt.NDArray[np.uint8], max_side: int = DEFAULT_MAX_SIDE, min_face_px: int = 40
) -> DetectionInput:
    """Downscale ``rgb`` (area averaging) so its longer side is <= ``max_side``; when it needed
    no downscaling, pick the fewest detector upsampling steps (<= 2) that find faces of
    ``min_face_px``. A downscaled image is never upsampled again: there the smallest face found
    is ~80 px of the detection image, i.e. ``80 * scale`` original pixels (8 % of the longer
    side at the default ``max_side``), which suits gate and document photos and keeps the cost
    of multi-megapixel inputs bounded.
    """
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"image must be uint8 [H, W, 3], got {rgb.dtype} {rgb.shape}")
    if max_side < HOG_WINDOW_PX:
        raise ValueError(f"max_side must be >= {HOG_WINDOW_PX}, got {max_side}")
    if min_face_px < 1:
        raise ValueError(f"min_face_px must be >= 1, got {min_face_px}")
    h, w = rgb.shape[:2]
    shrink = min(1.0, max_side / max(h, w))
    if shrink < 1.0:
        size = (max(1, round(w * shrink)), max(1, round(h * shrink)))
        small = np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
        scale = w / size[0]
    else:
        small, scale = rgb, 1.0
    upsample = 0
    while scale == 1.0 and upsample < 2 and HOG_WINDOW_PX / (2**upsample) > min_face_px:
        upsample += 1
    return DetectionInput(np.ascontiguousarray(small), float(scale), upsample)
