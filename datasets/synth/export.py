"""Write synthetic datasets to disk: images, COCO JSON, declarations, contact sheet.

Layout of ``out/``::

    manifest.json            what was generated (kind, n, seed, settings, versions)
    annotations.json         COCO; file_name = pseudo-colour PNG; raw files in extra fields
    declarations.json        cargo only: {scan stem: declaration}
    contact_sheet.png        first samples with their boxes
    images/<stem>_<view>_rgb.png   8-bit RGB pseudo-colour
    images/<stem>_<view>_low.png   16-bit raw low energy (encoding in manifest / COCO image)
    images/<stem>_<view>_high.png  16-bit raw high energy
    ct/<stem>.npz            with --ct: CT numbers, Zeff, true density/material volumes

Sample i uses seed ``sample_seed(seed, i)``; the same (kind, seed, settings) always give the
same files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from datasets.scan_io import save_ct_npz, save_png, save_png_small, write_json
from datasets.synth.backscatter_scene import BACKSCATTER_CLASSES, generate_backscatter
from datasets.synth.baggage import BAGGAGE_CLASSES, BaggageConfig, generate_baggage
from datasets.synth.cargo import CARGO_CLASSES, CargoConfig, generate_cargo
from datasets.synth.coco_writer import CocoWriter
from datasets.synth.contact_sheet import Tile, contact_sheet
from datasets.synth.ct_scene import render_ct
from vision.backscatter import backscatter_to_uint8
from vision.ct.reconstruction import mip, window_to_uint8
from vision.xray.spectra import dual_layer_160kv, linac_dual_energy
from vision.xray.transmission import RawScheme, encode_raw16

Progress = Callable[[int], None]
MAX_SAMPLES = 100_000
SHEET_TILES = 12


class ExportError(ValueError):
    """Bad export arguments or an output directory that must not be overwritten."""


@dataclass(frozen=True)
class XrayExportOptions:
    """Options of :func:`export_xray` (``size``/``views``/``ct`` apply to baggage)."""

    kind: Literal["baggage", "cargo"]
    n: int
    seed: int
    size: int = 512
    views: int = 1
    ct: bool = False
    overwrite: bool = False


def sample_seed(seed: int, index: int) -> int:
    """Seed of sample ``index`` of a dataset generated with ``seed``."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def _prepare(out: Path, n: int, overwrite: bool) -> None:
    if not 1 <= n <= MAX_SAMPLES:
        raise ExportError(f"--n must be between 1 and {MAX_SAMPLES}, got {n}")
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} exists and is not a directory")
    if (out / "manifest.json").exists() and not overwrite:
        raise ExportError(f"{out} already holds a dataset (use --overwrite to replace it)")
    (out / "images").mkdir(parents=True, exist_ok=True)


def _manifest(out: Path, what: dict[str, Any]) -> None:
    from importlib.metadata import version

    import cv2

    write_json(out / "manifest.json", {
        **what,
        "versions": {"numpy": np.__version__, "opencv": cv2.__version__,
                     "scikit-image": version("scikit-image")},
    })


def export_xray(out: Path, options: XrayExportOptions, progress: Progress | None = None) -> dict[
        str, Any]:
    """Generate and write a baggage or cargo dataset; returns a summary dict."""
    if options.kind not in ("baggage", "cargo"):
        raise ExportError(f"unknown kind {options.kind!r} (baggage or cargo)")
    if options.kind == "baggage" and not 64 <= options.size <= 4096:
        raise ExportError("--size must be between 64 and 4096 pixels")
    if options.views not in (1, 2):
        raise ExportError("--views must be 1 or 2")
    _prepare(out, options.n, options.overwrite)
    if options.ct:
        (out / "ct").mkdir(exist_ok=True)
    baggage = options.kind == "baggage"
    classes = BAGGAGE_CLASSES if baggage else CARGO_CLASSES
    encoding: RawScheme = "linear" if baggage else "log"
    spectrum = dual_layer_160kv() if baggage else linac_dual_energy()
    coco = CocoWriter(classes, {"description": f"Kouan synthetic {options.kind} X-ray scans",
                                "seed": options.seed, "spectrum": spectrum.name})
    declarations: dict[str, Any] = {}
    tiles: list[Tile] = []
    n_boxes = 0
    for i in range(options.n):
        s = sample_seed(options.seed, i)
        stem = f"{options.kind}_{i:05d}"
        if baggage:
            sample = generate_baggage(s, BaggageConfig(size=options.size, views=options.views))
            views = [(v.view, v.low, v.high, v.rgb,
                      [(a.label, a.box_xyxy, a.mask, a.attributes) for a in v.annotations])
                     for v in sample.views]
            scene = sample.scene
        else:
            cs = generate_cargo(s, CargoConfig())
            views = [("side", cs.low, cs.high, cs.rgb, cs.annotations)]
            scene = cs.scene
            declarations[stem] = cs.declaration
        for view, low, high, rgb, anns in views:
            base = f"images/{stem}_{view}"
            save_png(out / f"{base}_rgb.png", rgb)
            save_png(out / f"{base}_low.png", encode_raw16(low, encoding))
            save_png(out / f"{base}_high.png", encode_raw16(high, encoding))
            image_id = coco.add_image(
                f"{base}_rgb.png", rgb.shape[0], rgb.shape[1], raw_low=f"{base}_low.png",
                raw_high=f"{base}_high.png", raw_encoding=encoding, view=view, sample_seed=s,
                pixel_cm=scene.pixel_cm, scene=stem)
            for label, box, mask, attrs in anns:
                coco.add_annotation(image_id, label, box, mask, **attrs)
                n_boxes += 1
            if view in ("top", "side") and len(tiles) < SHEET_TILES and (
                    view == "top" or not baggage):
                tiles.append(Tile(rgb, [a[1] for a in anns], [a[0] for a in anns], stem,
                                  classes))
        if options.ct and baggage:
            sct = render_ct(scene, np.random.default_rng(s))
            save_ct_npz(out / "ct" / f"{stem}.npz", sct.scan.ct_number, sct.phantom.voxel_cm,
                        zeff=sct.scan.zeff, density=sct.phantom.density,
                        material_index=sct.phantom.material_index,
                        materials=np.array([m.name for m in sct.phantom.materials]))
        if progress is not None:
            progress(1)
    coco.write(out / "annotations.json")
    if declarations:
        write_json(out / "declarations.json", declarations)
    save_png_small(out / "contact_sheet.png", contact_sheet(tiles, cols=3 if not baggage else 4,
                                                      tile_width=340 if not baggage else 200))
    summary = {"kind": options.kind, "n": options.n, "images": len(coco.images),
               "annotations": n_boxes, "out": str(out)}
    _manifest(out, {**summary, "options": asdict(options), "raw_encoding": encoding,
                    "spectrum": spectrum.name, "categories": list(classes)})
    return summary


def export_backscatter(out: Path, n: int, seed: int, overwrite: bool = False,
                       progress: Progress | None = None) -> dict[str, Any]:
    """Backscatter van scans: 16-bit images (65535 = 2x thick water), COCO boxes, sheet."""
    _prepare(out, n, overwrite)
    coco = CocoWriter(BACKSCATTER_CLASSES, {"description": "Kouan synthetic backscatter"})
    tiles: list[Tile] = []
    for i in range(n):
        s = sample_seed(seed, i)
        sample = generate_backscatter(s)
        name = f"images/backscatter_{i:05d}.png"
        raw = np.clip(sample.image / 2.0, 0.0, 1.0)
        save_png(out / name, np.rint(raw * 65535).astype(np.uint16))
        image_id = coco.add_image(name, *sample.image.shape, sample_seed=s,
                                  scale="value / 65535 * 2 = signal relative to thick water",
                                  **sample.meta)
        for label, box, attrs in sample.annotations:
            coco.add_annotation(image_id, label, box, None, **attrs)
        if len(tiles) < 8:
            tiles.append(Tile(backscatter_to_uint8(sample.image), [a[1] for a in
                                                                   sample.annotations],
                              [a[0] for a in sample.annotations], f"van {i}",
                              BACKSCATTER_CLASSES))
        if progress is not None:
            progress(1)
    coco.write(out / "annotations.json")
    save_png_small(out / "contact_sheet.png", contact_sheet(tiles, cols=2, tile_width=400))
    summary = {"kind": "backscatter", "n": n, "images": n, "out": str(out)}
    _manifest(out, {**summary, "seed": seed})
    return summary


def export_ct(out: Path, n: int, seed: int, overwrite: bool = False, voxel_cm: float = 1.5,
              progress: Progress | None = None) -> dict[str, Any]:
    """CT volumes of synthetic bags (.npz) with a MIP / slice contact sheet and errors."""
    _prepare(out, n, overwrite)
    tiles: list[Tile] = []
    errors = []
    for i in range(n):
        s = sample_seed(seed, i)
        sample = generate_baggage(s, BaggageConfig(size=256, detector=None))
        sct = render_ct(sample.scene, np.random.default_rng(s), voxel_cm=voxel_cm)
        save_ct_npz(out / "images" / f"ct_{i:05d}.npz", sct.scan.ct_number, voxel_cm,
                    zeff=sct.scan.zeff, density=sct.phantom.density,
                    material_index=sct.phantom.material_index)
        errors.append({"scene": f"ct_{i:05d}", "mean_rmse_per_cm": sct.scan.errors.mean_rmse,
                       "mean_ssim": sct.scan.errors.mean_ssim})
        if len(tiles) < 8:
            hu = sct.scan.ct_number
            tiles.append(Tile(window_to_uint8(mip(hu, axis=1), -1000, 3000), caption=f"MIP {i}"))
            mid = hu[hu.shape[0] // 2]
            tiles.append(Tile(window_to_uint8(mid, -1000, 3000), caption=f"slice {i}"))
        if progress is not None:
            progress(1)
    write_json(out / "errors.json", errors)
    save_png_small(out / "contact_sheet.png", contact_sheet(tiles, cols=4, tile_width=200))
    summary = {"kind": "ct", "n": n, "voxel_cm": voxel_cm, "out": str(out)}
    _manifest(out, {**summary, "seed": seed})
    return summary
