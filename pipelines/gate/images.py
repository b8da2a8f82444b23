"""Decode untrusted gate camera uploads into BGR images, with clear reasons for refusals.

The format comes from the magic bytes (never the file name); the declared pixel size is read
from the header before decoding so a small file claiming a huge canvas (decompression bomb) is
refused without allocating it; truncated or corrupt data is refused (OpenCV returns nothing).
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from kouan.errors import UsageError
from vision.faces.decode import ImageDecodeError, read_header


class ImageTooLarge(UsageError):
    """Too many bytes, too many pixels or too many files: HTTP 413."""


SUPPORTED = frozenset({"jpeg", "png", "bmp", "webp"})
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000  # 40 MP: well above any lane camera
MIN_SIDE = 16  # smaller cannot hold a readable plate (LPR crops are 94x24)
MEDIA_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "bmp": "image/bmp",
               "webp": "image/webp"}


def media_type_of(data: bytes) -> str:
    """``image/<format>`` from the magic bytes, ``application/octet-stream`` when unknown."""
    try:
        return MEDIA_TYPES.get(read_header(data).format, "application/octet-stream")
    except ImageDecodeError:
        return "application/octet-stream"


def decode_image(data: bytes, name: str) -> npt.NDArray[np.uint8]:
    """``data`` -> uint8 BGR ``[H, W, 3]``; :class:`UsageError` naming ``name`` and the reason
    for empty, oversized, unsupported, truncated or absurdly sized input."""
    if not data:
        raise UsageError(f"{name}: empty file (0 bytes)")
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageTooLarge(f"{name}: {len(data)} bytes; the limit is {MAX_IMAGE_BYTES}")
    try:
        header = read_header(data)
    except ImageDecodeError as exc:
        raise UsageError(f"{name}: {exc}") from None
    if header.format not in SUPPORTED:
        raise UsageError(f"{name}: {header.format.upper()} is not supported; send JPEG, PNG, "
                         "BMP or WEBP")
    if header.width is not None and header.height is not None:
        _check_size(name, header.width, header.height)
    img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise UsageError(f"{name}: {header.format.upper()} data could not be decoded "
                         "(truncated or corrupt)")
    _check_size(name, img.shape[1], img.shape[0])
    return np.ascontiguousarray(img)


def _check_size(name: str, width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise ImageTooLarge(f"{name}: {width}x{height} pixels; the limit is "
                         f"{MAX_PIXELS // 1_000_000} megapixels")
    if min(width, height) < MIN_SIDE:
        raise UsageError(f"{name}: {width}x{height} pixels; at least {MIN_SIDE} pixels per side "
                         "are needed")
