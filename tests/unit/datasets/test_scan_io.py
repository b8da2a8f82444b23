"""Scan file loaders: content sniffing, dtype/shape/range checks, bad files."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import tifffile
from numpy.typing import NDArray

from datasets.scan_io import (
    ScanFormatError,
    load_backscatter,
    load_ct_volume,
    load_dual_energy,
    load_pseudo_colour,
    load_raw_channel,
    save_ct_npz,
    save_png,
    save_tiff_stack,
    sniff_format,
)
from kouan.realdata import realdata_dir
from vision.xray import encode_raw16

REAL = realdata_dir() / "xray_baggage"


def _raw(
    tmp_path: Path, name: str, shape: tuple[int, int] = (32, 40), seed: int = 0
) -> tuple[Path, NDArray[Any]]:
    t = (np.random.default_rng(seed).random(shape) * 0.9 + 0.05).astype(np.float32)
    save_png(tmp_path / name, encode_raw16(t))
    return tmp_path / name, t


def test_dual_energy_round_trip_and_wrong_extension(tmp_path: Path) -> None:
    low, t = _raw(tmp_path, "low.jpg")  # PNG content behind a JPEG extension
    high, _ = _raw(tmp_path, "high.tif", seed=1)
    assert sniff_format(low) == "png"
    lo, hi = load_dual_energy(low, high)
    assert lo.dtype == np.float32 and lo.shape == (32, 40)
    assert np.abs(lo - t).max() < 2e-5


def test_float_tiff_channel(tmp_path: Path) -> None:
    tifffile.imwrite(tmp_path / "t.tif", np.full((8, 8), 0.5, np.float32))
    assert load_raw_channel(tmp_path / "t.tif")[0, 0] == pytest.approx(0.5)


def _bomb_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 4096)) + chunk(b"IEND", b""))


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    png, _ = _raw(tmp_path, "ok.png")
    data = png.read_bytes()
    (tmp_path / "trunc.png").write_bytes(data[: len(data) // 2])
    rgb = np.zeros((20, 30, 3), np.uint8)
    jpg = cv2.imencode(".jpg", rgb)[1].tobytes()
    (tmp_path / "trunc.jpg").write_bytes(jpg[: len(jpg) // 2])
    (tmp_path / "bomb.png").write_bytes(_bomb_png())
    (tmp_path / "text.png").write_text("not an image")
    (tmp_path / "empty.png").write_bytes(b"")
    cv2.imwrite(str(tmp_path / "u8.png"), np.zeros((8, 8), np.uint8))
    tifffile.imwrite(tmp_path / "nan.tif", np.full((4, 4), np.nan, np.float32))
    tifffile.imwrite(tmp_path / "neg.tif", np.full((4, 4), -1.0, np.float32))
    return {
        "truncated PNG": (tmp_path / "trunc.png", "truncated PNG"),
        "truncated JPEG": (tmp_path / "trunc.jpg", "truncated JPEG"),
        "decompression bomb": (tmp_path / "bomb.png", "decompression bomb"),
        "not an image": (tmp_path / "text.png", "unrecognised content"),
        "empty": (tmp_path / "empty.png", "empty"),
        "8-bit raw": (tmp_path / "u8.png", "dtype uint8"),
        "NaN": (tmp_path / "nan.tif", "NaN"),
        "negative": (tmp_path / "neg.tif", r"\[0, 1\]"),
        "missing": (tmp_path / "missing.png", "cannot read"),
    }


@pytest.mark.parametrize("case", ["truncated PNG", "truncated JPEG", "decompression bomb",
                                  "not an image", "empty", "8-bit raw", "NaN", "negative",
                                  "missing"])
def test_bad_raw_files_name_the_problem(tmp_path: Path, case: str) -> None:
    path, message = _bad_files(tmp_path)[case]
    with pytest.raises(ScanFormatError, match=message):
        load_raw_channel(path)


def test_mismatched_pair(tmp_path: Path) -> None:
    low, _ = _raw(tmp_path, "low.png", (32, 40))
    high, _ = _raw(tmp_path, "high.png", (32, 41))
    with pytest.raises(ScanFormatError, match="shapes differ"):
        load_dual_energy(low, high)


def test_pseudo_colour_and_backscatter_loaders(tmp_path: Path) -> None:
    rgb = np.zeros((10, 12, 3), np.uint8)
    rgb[..., 0] = 200  # red in RGB order
    save_png(tmp_path / "c.dat", rgb)
    assert load_pseudo_colour(tmp_path / "c.dat")[0, 0].tolist() == [200, 0, 0]
    save_png(tmp_path / "g.png", np.full((5, 6), 65535, np.uint16))
    with pytest.raises(ScanFormatError, match="8-bit"):
        load_pseudo_colour(tmp_path / "g.png")
    assert load_backscatter(tmp_path / "g.png").max() == pytest.approx(1.0)
    with pytest.raises(ScanFormatError, match="single-channel"):
        load_backscatter(tmp_path / "c.dat")


def test_real_samples_load() -> None:
    img = load_pseudo_colour(REAL / "sixray" / "P00001.jpg")
    assert img.shape == (549, 681, 3)
    grey = load_backscatter(REAL / "gdxray_full" / "B0046_0004.png")
    assert grey.shape == (2208, 2688)


def test_ct_volumes(tmp_path: Path) -> None:
    vol = np.random.default_rng(0).random((3, 6, 7)).astype(np.float32)
    save_ct_npz(tmp_path / "v.bin", vol, 0.5)
    got, voxel = load_ct_volume(tmp_path / "v.bin")
    assert np.array_equal(got, vol) and voxel == 0.5
    save_tiff_stack(tmp_path / "v.tif", vol)
    assert load_ct_volume(tmp_path / "v.tif")[0].shape == (3, 6, 7)
    with tifffile.TiffWriter(tmp_path / "bad.tif") as tw:
        tw.write(np.zeros((6, 7), np.float32))
        tw.write(np.zeros((6, 8), np.float32))
    with pytest.raises(ScanFormatError, match="slice 1 is .*inconsistent stack"):
        load_ct_volume(tmp_path / "bad.tif")
    data = (tmp_path / "v.tif").read_bytes()
    (tmp_path / "t.tif").write_bytes(data[: len(data) // 2])
    with pytest.raises(ScanFormatError, match="unreadable TIFF"):
        load_ct_volume(tmp_path / "t.tif")
    data = (tmp_path / "v.bin").read_bytes()
    (tmp_path / "t.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ScanFormatError, match="unreadable .npz"):
        load_ct_volume(tmp_path / "t.npz")
    np.savez(tmp_path / "flat.npz", volume=np.zeros((4, 4), np.float32))
    with pytest.raises(ScanFormatError, match="3-D"):
        load_ct_volume(tmp_path / "flat.npz")
    np.savez(tmp_path / "other.npz", data=np.zeros((2, 2, 2)))
    with pytest.raises(ScanFormatError, match="no 'volume'"):
        load_ct_volume(tmp_path / "other.npz")
    np.savez(tmp_path / "nan.npz", volume=np.full((2, 2, 2), np.nan))
    with pytest.raises(ScanFormatError, match="NaN"):
        load_ct_volume(tmp_path / "nan.npz")
