"""Decoding untrusted image bytes: formats by magic bytes, limits before allocation."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from vision.faces.decode import (
    ImageDecodeError,
    as_rgb,
    decode_rgb,
    read_header,
    sniff_format,
)


def _encode(img: np.ndarray, ext: str) -> bytes:
    ok, buf = cv2.imencode(ext, img)
    assert ok
    return buf.tobytes()


def _png_claiming(width: int, height: int) -> bytes:
    """A syntactically valid PNG header that declares a huge canvas (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk
            + struct.pack(">I", zlib.crc32(chunk)))


BGR = np.random.default_rng(0).integers(0, 255, (64, 80, 3), dtype=np.uint8)


@pytest.mark.parametrize(("ext", "fmt"), [(".jpg", "jpeg"), (".png", "png"), (".webp", "webp"),
                                          (".bmp", "bmp")])
def test_formats_decode_to_rgb_with_header_size(ext: str, fmt: str) -> None:
    data = _encode(BGR, ext)
    assert sniff_format(data) == fmt
    header = read_header(data)
    assert (header.width, header.height) == (80, 64)
    rgb = decode_rgb(data)
    assert rgb.shape == (64, 80, 3) and rgb.dtype == np.uint8
    if ext in (".png", ".bmp"):  # lossless: channels must be swapped to RGB exactly
        assert np.array_equal(rgb, BGR[:, :, ::-1])


def test_grey_and_16bit_and_alpha_png_become_8bit_rgb() -> None:
    grey = BGR[:, :, 0]
    assert decode_rgb(_encode(grey, ".png")).shape == (64, 80, 3)
    deep = (grey.astype(np.uint16) * 257)
    out = decode_rgb(_encode(deep, ".png"))
    assert out.dtype == np.uint8 and np.abs(out[:, :, 0].astype(int) - grey).max() <= 1
    rgba = np.dstack([BGR, np.full(grey.shape, 128, np.uint8)])
    assert decode_rgb(_encode(rgba, ".png")).shape == (64, 80, 3)


def test_webp_named_jpg_is_decoded_as_webp(faces_dir: Path) -> None:
    data = (faces_dir / "deepface" / "img47.jpg").read_bytes()
    assert sniff_format(data) == "webp"
    assert decode_rgb(data).shape == (1800, 1350, 3)


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"),
    (b"hello, not an image at all", "not an image"),
    (_png_claiming(100_000, 100_000), "megapixels"),
    (_png_claiming(20, 5000), "at least"),
])
def test_bad_bytes_are_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(ImageDecodeError, match=message):
        decode_rgb(data)


def test_tiny_truncated_and_oversized_files() -> None:
    with pytest.raises(ImageDecodeError, match="at least 32"):
        decode_rgb(_encode(BGR[:10, :10], ".png"))
    jpeg = _encode(BGR, ".jpg")
    with pytest.raises(ImageDecodeError):
        decode_rgb(jpeg[: len(jpeg) // 3])
    with pytest.raises(ImageDecodeError, match="limit"):
        decode_rgb(jpeg, max_bytes=100)


def test_as_rgb_shapes() -> None:
    assert as_rgb(BGR[:, :, 0]).shape == (64, 80, 3)
    assert as_rgb(np.zeros((4, 4, 4), np.uint8)).shape == (4, 4, 3)
    with pytest.raises(ValueError):
        as_rgb(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ValueError):
        as_rgb(np.zeros((4, 4), np.float32))
