"""Decode untrusted image bytes into RGB ``uint8 [H, W, 3]``, whatever their file name says.

The container format is sniffed from magic bytes (a WEBP named ``.jpg`` decodes as WEBP) and
the declared pixel size is read from the header *before* decoding, so a tiny file that claims a
gigapixel canvas is refused without allocating it. Grey, palette, 16-bit and alpha images come
out as 8-bit RGB; JPEG EXIF orientation is applied (OpenCV's ``IMREAD_COLOR`` does it).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

MAX_BYTES = 40 * 1024 * 1024
MAX_PIXELS = 60_000_000  # 60 MP: larger than any camera we expect at a gate
MIN_SIDE = 32  # below this no face can be large enough to embed


class ImageDecodeError(ValueError):
    """The bytes are not a decodable image within the limits; the message says why."""


@dataclass(frozen=True)
class ImageHeader:
    """What the header declares: ``format`` (``jpeg``/``png``/``webp``/``bmp``/``gif``/``tiff``)
    and the size in pixels (``None`` when the header does not state it plainly)."""

    format: str
    width: int | None
    height: int | None


def sniff_format(data: bytes) -> str | None:
    """Container format from magic bytes, or ``None`` when unknown."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:2] == b"BM":
        return "bmp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    n = len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        # SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC) carry the frame size.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if i + 9 > n:
                return None
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30:
        w, h = struct.unpack("<HH", data[26:30])
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        b = data[21:25]
        w = 1 + (((b[1] & 0x3F) << 8) | b[0])
        h = 1 + (((b[3] & 0x0F) << 10) | (b[2] << 2) | ((b[1] & 0xC0) >> 6))
        return w, h
    if chunk == b"VP8X" and len(data) >= 30:
        w = 1 + int.from_bytes(data[24:27], "little")
        h = 1 + int.from_bytes(data[27:30], "little")
        return w, h
    return None


def read_header(data: bytes) -> ImageHeader:
    """Sniff the format and declared size; :class:`ImageDecodeError` if not an image format."""
    fmt = sniff_format(data)
    if fmt is None:
        raise ImageDecodeError("not an image (unknown file signature; expected JPEG, PNG, WEBP, "
                               "BMP, GIF or TIFF)")
    size: tuple[int, int] | None = None
    if fmt == "png" and len(data) >= 24:
        size = struct.unpack(">II", data[16:24])
    elif fmt == "jpeg":
        size = _jpeg_size(data)
    elif fmt == "webp":
        size = _webp_size(data)
    elif fmt == "bmp" and len(data) >= 26:
        w, h = struct.unpack("<ii", data[18:26])
        size = (abs(w), abs(h))
    elif fmt == "gif" and len(data) >= 10:
        size = struct.unpack("<HH", data[6:10])
    return ImageHeader(fmt, size[0] if size else None, size[1] if size else None)


def _check_size(width: int, height: int, max_pixels: int, min_side: int) -> None:
    if width * height > max_pixels:
        raise ImageDecodeError(f"image is {width}x{height} pixels; the limit is "
                               f"{max_pixels / 1e6:.0f} megapixels")
    if min(width, height) < min_side:
        raise ImageDecodeError(f"image is {width}x{height} pixels; faces need at least "
                               f"{min_side} pixels on the shorter side")


def decode_rgb(
    data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS,
    min_side: int = MIN_SIDE,
) -> npt.NDArray[np.uint8]:
    """Decode ``data`` to RGB ``uint8 [H, W, 3]`` (C-contiguous); raise :class:`ImageDecodeError`
    for empty, oversized, undersized, truncated or non-image input."""
    if not data:
        raise ImageDecodeError("empty file")
    if len(data) > max_bytes:
        raise ImageDecodeError(f"file is {len(data)} bytes; the limit is {max_bytes}")
    header = read_header(data)
    if header.width is not None and header.height is not None:
        _check_size(header.width, header.height, max_pixels, min_side)
    bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ImageDecodeError(f"{header.format} data could not be decoded (truncated or corrupt)")
    h, w = bgr.shape[:2]
    _check_size(w, h, max_pixels, min_side)
    rgb: npt.NDArray[np.uint8] = np.ascontiguousarray(bgr[:, :, ::-1])
    return rgb


def as_rgb(image: npt.NDArray[np.generic]) -> npt.NDArray[np.uint8]:
    """An in-memory image (``[H, W]`` grey, ``[H, W, 1]``, ``[H, W, 3]`` RGB or ``[H, W, 4]``
    RGBA; uint8) as RGB ``uint8 [H, W, 3]``; ``ValueError`` for anything else."""
    if image.dtype != np.uint8:
        raise ValueError(f"image must be uint8, got {image.dtype}")
    arr = np.asarray(image, dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4):
        raise ValueError(f"image must be HxW, HxWx1, HxWx3 or HxWx4, got shape {arr.shape}")
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    elif arr.shape[2] == 4:
        arr = arr[:, :, :3]
    return np.ascontiguousarray(arr)
