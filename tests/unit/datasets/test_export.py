"""Dataset export and the ``kouan datasets`` CLI (COCO loads in pycocotools)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pycocotools.coco import COCO

from datasets.scan_io import load_dual_energy, load_pseudo_colour
from datasets.synth.export import (
    ExportError,
    XrayExportOptions,
    export_ct,
    export_xray,
    sample_seed,
)
from kouan.cli.main import main


def test_baggage_export_loads_in_pycocotools(tmp_path: Path) -> None:
    out = tmp_path / "bags"
    summary = export_xray(out, XrayExportOptions("baggage", 3, seed=4, size=128, views=2))
    assert summary["images"] == 6
    coco = COCO(str(out / "annotations.json"))
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == [
        "handgun", "gun_part", "knife", "ied", "liquid", "laptop"]
    for ann in coco.loadAnns(coco.getAnnIds()):
        mask = coco.annToMask(ann)
        assert mask.sum() == ann["area"] > 0
        x, y, w, h = ann["bbox"]
        ys, xs = np.nonzero(mask)
        assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (x, y, x + w, y + h)
    img = coco.loadImgs(coco.getImgIds()[0])[0]
    low, high = load_dual_energy(out / img["raw_low"], out / img["raw_high"])
    assert low.shape == (img["height"], img["width"])
    assert load_pseudo_colour(out / img["file_name"]).shape == (img["height"], img["width"], 3)
    assert (out / "contact_sheet.png").stat().st_size < 300_000
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["raw_encoding"] == "linear" and manifest["n"] == 3


def test_export_is_deterministic_and_protected(tmp_path: Path) -> None:
    opts = XrayExportOptions("baggage", 1, seed=9, size=96)
    export_xray(tmp_path / "a", opts)
    export_xray(tmp_path / "b", opts)
    for name in ("images/baggage_00000_top_low.png", "annotations.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    with pytest.raises(ExportError, match="overwrite"):
        export_xray(tmp_path / "a", opts)
    with pytest.raises(ExportError, match="--n"):
        export_xray(tmp_path / "c", XrayExportOptions("baggage", 0, seed=9))
    assert sample_seed(1, 0) != sample_seed(1, 1) != sample_seed(2, 1)


def test_cargo_export_writes_declarations(tmp_path: Path) -> None:
    out = tmp_path / "cargo"
    export_xray(out, XrayExportOptions("cargo", 2, seed=1))
    decl = json.loads((out / "declarations.json").read_text())
    assert set(decl) == {"cargo_00000", "cargo_00001"}
    assert all("matches" in d for d in decl.values())
    coco = COCO(str(out / "annotations.json"))
    img = coco.loadImgs(coco.getImgIds()[0])[0]
    assert img["raw_encoding"] == "log"
    low, _ = load_dual_energy(out / img["raw_low"], out / img["raw_high"], "log")
    assert float(low.min()) < 1e-2  # the log encoding keeps the dark end


def test_ct_export(tmp_path: Path) -> None:
    out = tmp_path / "ct"
    export_ct(out, 1, seed=2, voxel_cm=3.0)
    errors = json.loads((out / "errors.json").read_text())
    assert errors[0]["mean_ssim"] > 0.3
    data = np.load(out / "images" / "ct_00000.npz")
    assert data["volume"].ndim == 3 and data["zeff"].shape == data["volume"].shape


def test_cli_synth_and_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    rc = main(["datasets", "synth", "xray", "--kind", "baggage", "--n", "1", "--out", str(out),
               "--seed", "3", "--size", "96"])
    assert rc == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["images"] == 1
    assert main(["datasets", "synth", "xray", "--kind", "baggage", "--n", "1", "--out",
                 str(out), "--size", "96"]) == 2  # exists, no --overwrite
    assert main(["datasets", "synth", "xray", "--kind", "cargo", "--n", "0", "--out",
                 str(tmp_path / "x")]) == 2
    assert main(["datasets", "synth", "xray", "--kind", "cargo", "--n", "1", "--ct", "--out",
                 str(tmp_path / "y")]) == 2
    low = out / "images" / "baggage_00000_top_low.png"
    high = out / "images" / "baggage_00000_top_high.png"
    assert main(["datasets", "views", "--low", str(low), "--high", str(high), "--out",
                 str(tmp_path / "views")]) == 0
    assert (tmp_path / "views" / "metal_only.png").exists()
    assert main(["datasets", "inspect", str(low)]) == 0
    (tmp_path / "junk.png").write_bytes(b"garbage")
    assert main(["datasets", "inspect", str(tmp_path / "junk.png")]) == 2
    assert main(["datasets", "views", "--low", str(low), "--high", str(tmp_path / "junk.png"),
                 "--out", str(tmp_path / "v2")]) == 2
    err = capsys.readouterr().err
    assert "unrecognised content" in err and "Traceback" not in err


@pytest.mark.slow
def test_demo_scans(tmp_path: Path) -> None:
    from datasets.synth.demo import demo_scans

    summary = demo_scans(tmp_path / "demo")
    assert summary["Zeff check, worst |error|"] <= 1.0
    assert (tmp_path / "demo" / "baggage_0_metal_only.png").exists()
    assert (tmp_path / "demo" / "ct_volume.npz").exists()
