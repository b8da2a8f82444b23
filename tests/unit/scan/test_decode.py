"""Scan files recognised by content, grouped into scans, decoded or refused with a reason."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from datasets.scan_io import ScanFormatError, save_png
from kouan.domain import Modality
from pipelines.scan.decode import decode_scan, scan_refs


def _names(refs: list) -> list[str]:  # type: ignore[type-arg]
    return [r.name for r in refs]


def test_pairs_sidecars_and_previews_are_grouped(tmp_path: Path) -> None:
    for name in ("a_low.png", "a_high.png", "a_rgb.png", "b.jpg", "contact_sheet.png",
                 "c_low.png", "a.json"):
        (tmp_path / name).write_bytes(b"x")
    refs = scan_refs(sorted(tmp_path.iterdir()))
    assert _names(refs) == ["a", "b", "c_low"]
    assert refs[0].paths == (tmp_path / "a_low.png", tmp_path / "a_high.png")
    assert refs[2].meta == {"unpaired": True}
    with pytest.raises(ScanFormatError, match="half of a raw dual-energy pair"):
        decode_scan(refs[2])


def test_decodes_each_kind(tmp_path: Path, scan_samples: Path) -> None:
    rgb = np.zeros((40, 60, 3), np.uint8)
    rgb[..., 0] = 200
    save_png(tmp_path / "colour.png", rgb)
    cv2.imwrite(str(tmp_path / "grey.jpg"), np.full((30, 30), 90, np.uint8))
    save_png(tmp_path / "bs.png", np.full((20, 20), 30000, np.uint16))
    np.savez(tmp_path / "pair.npz", low=np.full((8, 8), 0.5, np.float32),
             high=np.full((8, 8), 0.7, np.float32))
    refs = {r.name: r for r in scan_refs(sorted(tmp_path.iterdir()) + sorted(
        scan_samples.iterdir()))}
    got = {n: decode_scan(refs[n]) for n in ("colour", "grey", "bs", "pair", "bag_0", "ct_0",
                                             "cargo_mismatch")}
    assert got["colour"].modality is Modality.XRAY_DUAL_ENERGY
    assert got["colour"].rgb is not None and got["colour"].rgb[0, 0, 0] == 200  # RGB order
    assert got["grey"].modality is Modality.XRAY_SINGLE_ENERGY
    assert got["bs"].modality is Modality.BACKSCATTER
    assert got["pair"].low is not None and got["pair"].rgb is not None
    bag = got["bag_0"]
    assert bag.low is not None and bag.rgb is not None and bag.rgb.shape == (320, 320, 3)
    assert bag.media_type == "application/x-kouan-dual-energy-pair"
    assert got["ct_0"].modality is Modality.CT_VOLUME and got["ct_0"].zeff_volume is not None
    cargo = got["cargo_mismatch"]
    assert cargo.is_cargo and cargo.ref.meta["declaration"]["declared_hs_chapter"] == "52"
    # the same bytes give the same hash
    assert decode_scan(refs["bag_0"]).sha256 == bag.sha256


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "empty"), (b"hello world, not an image", "unrecognised content"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "truncated PNG"),
])
def test_bad_files_name_the_problem(tmp_path: Path, content: bytes, reason: str) -> None:
    p = tmp_path / "scan.png"
    p.write_bytes(content)
    with pytest.raises(ScanFormatError, match=reason):
        decode_scan(scan_refs([p])[0])


def test_mismatched_pair_and_bad_npz(tmp_path: Path) -> None:
    save_png(tmp_path / "m_low.png", np.full((10, 10), 1000, np.uint16))
    save_png(tmp_path / "m_high.png", np.full((10, 12), 1000, np.uint16))
    np.savez(tmp_path / "nan.npz", low=np.full((4, 4), np.nan, np.float32),
             high=np.ones((4, 4), np.float32))
    refs = {r.name: r for r in scan_refs(sorted(tmp_path.iterdir()))}
    with pytest.raises(ScanFormatError, match="shape"):
        decode_scan(refs["m"])
    with pytest.raises(ScanFormatError, match="finite"):
        decode_scan(refs["nan"])
    (tmp_path / "x.json").write_text(json.dumps({"kind": "cargo"}))
