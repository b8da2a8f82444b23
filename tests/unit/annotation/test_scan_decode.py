"""Evidence bytes -> viewable images: recognised by content, bad content refused with a reason."""

from __future__ import annotations

import json

import numpy as np
import pytest
from numpy.typing import NDArray

from annotation.scan_decode import (
    UnsupportedObject,
    decode_declaration,
    decode_image,
    dual_energy_npz,
    sniff,
)
from tests.fixtures.review import bag_pair, npz_bytes, png_bytes

SHA = "b" * 64


@pytest.mark.parametrize(("data", "fmt"), [
    (png_bytes(np.zeros((4, 4), np.uint8)), "png"),
    (npz_bytes(a=np.zeros(2)), "npz"),
    (b'  {"plate": "x"}', "json"),
    (b"\xff\xd8\xff\xe0rest", "jpeg"),
    (b"hello", "unknown"),
])
def test_sniff_by_content(data: bytes, fmt: str) -> None:
    assert sniff(data) == fmt


def test_dual_energy_npz_round_trip_keeps_transmissions() -> None:
    low, high = bag_pair()
    img = decode_image(SHA, dual_energy_npz(low, high, "linear", "dual_layer_160kv_10keV"))
    assert (img.kind, img.width, img.height) == ("dual_energy", 128, 96)
    assert img.low is not None and img.high is not None and img.gray16 is not None
    assert np.abs(img.high - high).max() < 1e-4  # 16-bit linear quantisation only
    assert img.gray16.dtype == np.uint16 and img.gray16.shape == (96, 128)
    assert img.spectrum == "dual_layer_160kv_10keV" and img.encoding == "linear"


def test_log_encoded_pair_decodes_to_the_same_transmissions() -> None:
    low, high = bag_pair()
    img = decode_image(SHA, dual_energy_npz(low, high, "log"))
    assert img.high is not None and np.abs(np.log(img.high) - np.log(high)).max() < 1e-3
    assert img.encoding == "log"


@pytest.mark.parametrize(("image", "kind"), [
    (np.full((20, 30), 40000, np.uint16), "gray16"),
    (np.full((20, 30), 7, np.uint8), "gray8"),
    (np.dstack([np.full((20, 30), v, np.uint8) for v in (10, 20, 30)]), "rgb"),
])
def test_png_kinds(image: NDArray[np.generic], kind: str) -> None:
    img = decode_image(SHA, png_bytes(image))
    assert (img.kind, img.width, img.height) == (kind, 30, 20)
    if kind == "rgb":
        assert img.rgb is not None and tuple(img.rgb[0, 0]) == (10, 20, 30)  # RGB order kept


def test_ct_volume_with_3d_boxes() -> None:
    vol = np.zeros((8, 20, 30), np.float32)
    vol[2:5, 4:9, 10:20] = 1000.0
    data = npz_bytes(volume=vol, boxes3d=np.array([[10, 4, 2, 20, 9, 5]], np.float32),
                     labels3d=np.array(["ied"]))
    img = decode_image(SHA, data)
    assert (img.kind, img.width, img.height) == ("ct", 30, 20)
    assert img.labels3d == ("ied",)


@pytest.mark.parametrize(("data", "reason"), [
    (b"not an image", "not an image"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "undecodable"),
    (npz_bytes(other=np.zeros(3)), "neither low/high"),
    (npz_bytes(low=np.zeros((4, 4), np.float32), high=np.zeros((5, 4), np.float32)),
     "shapes differ"),
    (npz_bytes(low=np.full((4, 4), np.nan, np.float32), high=np.ones((4, 4), np.float32)),
     "NaN"),
    (npz_bytes(volume=np.zeros((4, 4), np.float32)), "CT volume must be"),
    (b"PK\x03\x04broken zip", "unreadable .npz"),
])
def test_bad_content_is_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(UnsupportedObject, match=reason):
        decode_image(SHA, data)


def test_huge_png_header_is_refused_before_decoding() -> None:
    data = bytearray(png_bytes(np.zeros((2, 2), np.uint8)))
    data[16:24] = (100_000).to_bytes(4, "big") + (100_000).to_bytes(4, "big")
    with pytest.raises(UnsupportedObject, match="exceeds"):
        decode_image(SHA, bytes(data))


@pytest.mark.parametrize(("doc", "chapters"), [
    ({"plate": "蒙A12345", "goods": [{"hs_code": "870899", "description": "parts"},
                                     {"hs_code": "8708", "description": "more"},
                                     {"hs_code": "5201", "description": "cotton"}]},
     ["87", "52"]),
    ({"declared_hs_chapter": "85", "declared_description": "electronics"}, ["85"]),
    ({"plate": "蒙A12345", "declared_empty": True}, []),
])
def test_declarations_and_their_hs_chapters(doc: dict[str, object], chapters: list[str]) -> None:
    decl = decode_declaration(SHA, json.dumps(doc).encode())
    assert decl is not None and decl.hs_chapters == chapters


@pytest.mark.parametrize("data", [b'{"model": "x"}', b"[1, 2]", b"{broken", b"\x89PNG"])
def test_other_json_is_not_a_declaration(data: bytes) -> None:
    assert decode_declaration(SHA, data) is None
