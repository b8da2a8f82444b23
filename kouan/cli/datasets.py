"""``kouan datasets``: synthetic scans and scan-file tools.

* ``synth xray --kind baggage|cargo --n N --out DIR --seed S`` - images, COCO JSON,
  declarations (cargo), contact sheet; ``--ct`` adds a CT volume per bag.
* ``synth backscatter`` / ``synth ct`` - van backscatter scans / baggage CT volumes.
* ``views --low L --high H --out DIR`` - reviewer material views of a raw dual-energy pair.
* ``inspect PATH`` - load a scan file (recognised by content) and print what it holds.

Bad arguments or files exit 2 with one line naming the problem.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from kouan.errors import UsageError

datasets_app = typer.Typer(help="Synthetic scans (X-ray, cargo, backscatter, CT) and scan files.",
                           no_args_is_help=True)
synth_app = typer.Typer(help="Generate synthetic datasets with ground truth.",
                        no_args_is_help=True)
datasets_app.add_typer(synth_app, name="synth")


class XrayKind(StrEnum):
    baggage = "baggage"
    cargo = "cargo"


class FileKind(StrEnum):
    auto = "auto"
    raw = "raw"
    pseudo = "pseudo"
    ct = "ct"
    backscatter = "backscatter"


class Encoding(StrEnum):
    linear = "linear"
    log = "log"


def _progress(total: int, desc: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="scan", dynamic_ncols=True)


def _run_export(
    fn: Callable[..., dict[str, Any]], total: int, desc: str, *args: Any, **kwargs: Any
) -> None:
    from datasets.synth.export import ExportError

    try:
        with _progress(total, desc) as bar:
            summary = fn(*args, progress=bar.update, **kwargs)
    except (ExportError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot write output: {exc}") from None
    typer.echo(json.dumps(summary))


def _check_common(n: int, seed: int) -> None:
    from datasets.synth.export import MAX_SAMPLES

    if not 1 <= n <= MAX_SAMPLES:
        raise UsageError(f"--n must be between 1 and {MAX_SAMPLES}, got {n}")
    if seed < 0:
        raise UsageError("--seed must be >= 0")


@synth_app.command("xray")
def synth_xray(
    kind: Annotated[XrayKind, typer.Option(help="baggage or cargo")],
    n: Annotated[int, typer.Option("--n", help="Number of scans.")],
    out: Annotated[Path, typer.Option(help="Output directory.")],
    seed: Annotated[int, typer.Option(help="Dataset seed (same seed -> same files).")] = 0,
    size: Annotated[int, typer.Option(help="Baggage image size in pixels.")] = 512,
    views: Annotated[int, typer.Option(help="Baggage views: 1 (top) or 2 (top + side).")] = 1,
    ct: Annotated[bool, typer.Option("--ct", help="Also write a CT volume per bag.")] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing dataset.")] = False,
) -> None:
    """Dual-energy X-ray scans with COCO boxes/masks (and cargo declarations)."""
    from datasets.synth.export import XrayExportOptions, export_xray

    _check_common(n, seed)
    if ct and kind is XrayKind.cargo:
        raise UsageError("--ct applies to baggage only")
    opts = XrayExportOptions(kind.value, n, seed, size, views, ct, overwrite)
    _run_export(export_xray, max(n, 0), f"{kind.value} scans", out, opts)


@synth_app.command("backscatter")
def synth_backscatter(
    n: Annotated[int, typer.Option("--n", help="Number of scans.")],
    out: Annotated[Path, typer.Option(help="Output directory.")],
    seed: Annotated[int, typer.Option(help="Dataset seed.")] = 0,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing dataset.")] = False,
) -> None:
    """One-sided backscatter scans of vans with hidden organic packages and stowaways."""
    from datasets.synth.export import export_backscatter

    _check_common(n, seed)
    _run_export(export_backscatter, max(n, 0), "backscatter scans", out, n, seed, overwrite)


@synth_app.command("ct")
def synth_ct(
    n: Annotated[int, typer.Option("--n", help="Number of CT volumes.")],
    out: Annotated[Path, typer.Option(help="Output directory.")],
    seed: Annotated[int, typer.Option(help="Dataset seed.")] = 0,
    voxel_cm: Annotated[float, typer.Option(help="Voxel size in cm (0.5 - 5).")] = 1.5,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing dataset.")] = False,
) -> None:
    """Dual-energy CT volumes of synthetic bags (CT numbers, Zeff) with MIP contact sheet."""
    from datasets.synth.export import export_ct

    _check_common(n, seed)
    if not 0.5 <= voxel_cm <= 5.0:
        raise UsageError("--voxel-cm must be between 0.5 and 5")
    _run_export(export_ct, max(n, 0), "CT volumes", out, n, seed, overwrite, voxel_cm)


@datasets_app.command("views")
def views(
    low: Annotated[Path, typer.Option(help="Raw low-energy image (16-bit PNG/TIFF).")],
    high: Annotated[Path, typer.Option(help="Raw high-energy image (16-bit PNG/TIFF).")],
    out: Annotated[Path, typer.Option(help="Output directory for the view PNGs.")],
    encoding: Annotated[Encoding, typer.Option(help="Raw encoding (baggage linear, cargo log).")]
    = Encoding.linear,
) -> None:
    """Write reviewer views: pseudo-colour, high-energy grey, edges, organic/inorganic/metal."""
    from datasets.scan_io import ScanFormatError, load_dual_energy, save_png
    from vision.xray.render import material_views
    from vision.xray.spectra import dual_layer_160kv, linac_dual_energy

    try:
        lo, hi = load_dual_energy(low, high, encoding.value)
        spectrum = dual_layer_160kv() if encoding is Encoding.linear else linac_dual_energy()
        result = material_views(lo, hi, spectrum)
        out.mkdir(parents=True, exist_ok=True)
        for name, img in result.items():
            save_png(out / f"{name}.png", img)
    except (ScanFormatError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot write output: {exc}") from None
    typer.echo(json.dumps({"out": str(out), "views": sorted(result)}))


@datasets_app.command("inspect")
def inspect(
    path: Annotated[Path, typer.Argument(help="Scan file (type recognised by content).")],
    kind: Annotated[FileKind, typer.Option(help="How to read it.")] = FileKind.auto,
    encoding: Annotated[Encoding, typer.Option(help="Raw encoding for --kind raw.")]
    = Encoding.linear,
) -> None:
    """Load a scan file with all checks and print format, shape, dtype and value range."""
    from numpy.typing import NDArray

    from datasets import scan_io

    arr: NDArray[Any]
    try:
        fmt = scan_io.sniff_format(path)
        chosen = kind.value
        if chosen == "auto":
            chosen = "ct" if fmt == "npz" else "image"
        voxel = None
        if chosen == "ct":
            arr, voxel = scan_io.load_ct_volume(path)
        elif chosen == "raw":
            arr = scan_io.load_raw_channel(path, encoding.value)
        elif chosen == "pseudo":
            arr = scan_io.load_pseudo_colour(path)
        elif chosen == "backscatter":
            arr = scan_io.load_backscatter(path)
        else:
            try:
                arr = scan_io.load_pseudo_colour(path)
                chosen = "pseudo"
            except scan_io.ScanFormatError:
                try:
                    arr = scan_io.load_raw_channel(path, encoding.value)
                    chosen = "raw"
                except scan_io.ScanFormatError:
                    arr = scan_io.load_backscatter(path)
                    chosen = "backscatter"
    except (scan_io.ScanFormatError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    info = {"path": str(path), "format": fmt, "read_as": chosen, "shape": list(arr.shape),
            "dtype": str(arr.dtype), "min": float(arr.min()), "max": float(arr.max())}
    if voxel is not None:
        info["voxel_cm"] = voxel
    typer.echo(json.dumps(info))


def register(app: typer.Typer) -> None:
    """Add ``kouan datasets`` to the root CLI."""
    app.add_typer(datasets_app, name="datasets")
