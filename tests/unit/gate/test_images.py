"""Refusing bad uploads with a reason before any model runs."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest

from kouan.errors import UsageError
from pipelines.gate.images import ImageTooLarge, decode_image, media_type_of


def jpeg(h: int = 40, w: int = 60) -> bytes:
    ok, enc = cv2.imencode(".jpg", np.full((h, w, 3), 90, np.uint8))
    assert ok
    return enc.tobytes()


def png_header_claiming(w: int, h: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(
        ">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk


def test_good_images() -> None:
    img = decode_image(jpeg(), "a.jpg")
    assert img.shape == (40, 60, 3) and img.dtype == np.uint8
    ok, png = cv2.imencode(".png", np.zeros((30, 30, 4), np.uint8))  # RGBA
    assert ok and decode_image(png.tobytes(), "b").shape == (30, 30, 3)
    assert media_type_of(jpeg()) == "image/jpeg"
    assert media_type_of(b"hello") == "application/octet-stream"


@pytest.mark.parametrize(("data", "error", "phrase"), [
    (b"", UsageError, "empty file"),
    (b"this is not an image at all", UsageError, "not an image"),
    (jpeg()[:200], UsageError, "truncated or corrupt"),
    (b"GIF89a" + b"\x10\x00\x10\x00" + b"\x00" * 30, UsageError, "not supported"),
    (png_header_claiming(100_000, 100_000), ImageTooLarge, "megapixels"),
    (jpeg(8, 400), UsageError, "at least 16 pixels"),
])
def test_bad_images(data: bytes, error: type[Exception], phrase: str) -> None:
    with pytest.raises(error, match=phrase) as info:
        decode_image(data, "upload.jpg")
    assert "upload.jpg" in str(info.value)
