"""``kouan train xray`` and ``kouan export``: the ML engineer's commands for the X-ray detector.

* ``train xray --data DIR --out RUN_DIR`` - Ray Train (one local worker, or ``--workers N``
  on the cluster at ``RAY_ADDRESS``); resumes from ``RUN_DIR`` when it holds a checkpoint;
  then evaluates the best checkpoint (JSON + PNG in ``RUN_DIR/eval``).
* ``train eval RUN_DIR`` - evaluation only (synthetic held-out set, and real samples with
  ``--real``); ``--tta hflip`` scores the model averaged with its left-right mirror.
* ``export RUN_DIR`` - ONNX into the Triton model repository as a new version, with a card;
  ``--tta hflip`` bakes the mirror average into the graph (evaluate with it first).

Bad arguments exit 2 with one line naming the problem.
"""

from __future__ import annotations

import json
import logging
import shlex
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from kouan.errors import UsageError

train_app = typer.Typer(help="Train detectors (Ray Train) and evaluate them.",
                        no_args_is_help=True)


class TtaChoice(StrEnum):
    """Test-time augmentation (training/xray/tta.py); kept here so ``--help`` stays fast."""

    none = "none"
    hflip = "hflip"


def _existing_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise UsageError(f"{what} {path} is not a directory")
    return path


@train_app.command("xray")
def train_xray(
    data: Annotated[Path, typer.Option(help="COCO dataset dir (kouan datasets synth xray).")],
    out: Annotated[Path, typer.Option(help="Run folder (created; resumed if it exists).")],
    val_data: Annotated[Path | None, typer.Option(help="Held-out COCO dir.")] = None,
    size: Annotated[int, typer.Option(help="Model input size in pixels (multiple of 32).")]
    = 256,
    epochs: Annotated[int, typer.Option(help="Maximum epochs.")] = 40,
    batch_size: Annotated[int, typer.Option(help="Images per step per worker.")] = 16,
    lr: Annotated[float, typer.Option(help="Peak learning rate (AdamW).")] = 3e-3,
    max_steps: Annotated[int | None, typer.Option(help="Stop after N steps (smoke runs).")]
    = None,
    max_minutes: Annotated[float | None, typer.Option(help="Wall-clock budget.")] = None,
    patience: Annotated[int, typer.Option(help="Early-stopping patience (epochs).")] = 6,
    workers: Annotated[int, typer.Option(help="Ray Train workers.")] = 1,
    threads: Annotated[int, typer.Option(help="Torch threads per worker.")] = 2,
    loader_workers: Annotated[int, typer.Option(help="DataLoader processes per worker.")] = 1,
    seed: Annotated[int, typer.Option(help="Seed (init, shuffling, augmentation).")] = 0,
    tip_per_label: Annotated[int, typer.Option(help="TIP sprites per threat class.")] = 40,
    real_backgrounds: Annotated[Path | None, typer.Option(
        help="Folder of real benign scans used as TIP backgrounds (never evaluate on them).")]
    = None,
    p_real_background: Annotated[float, typer.Option(help="Share of samples on real "
                                                     "backgrounds.")] = 0.0,
    init_from: Annotated[Path | None, typer.Option(help="Checkpoint to fine-tune from.")]
    = None,
    val_limit: Annotated[int, typer.Option(help="Val images scored per epoch.")] = 150,
    evaluate: Annotated[bool, typer.Option(help="Evaluate the best checkpoint at the end.")]
    = True,
    real: Annotated[Path | None, typer.Option(help="Real xray_baggage folder to score at the "
                                              "end (image-level AUC).")] = None,
) -> None:
    """Train the baggage threat detector with Ray Train."""
    from pydantic import ValidationError

    from kouan.config import get_settings
    from training.xray.config import TrainConfig

    _existing_dir(data, "--data")
    if val_data is not None:
        _existing_dir(val_data, "--val-data")
    backgrounds: list[Path] = []
    if real_backgrounds is not None:
        _existing_dir(real_backgrounds, "--real-backgrounds")
        backgrounds = sorted(p for p in real_backgrounds.iterdir()
                             if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        if not backgrounds:
            raise UsageError(f"no .jpg/.png images in {real_backgrounds}")
    if init_from is not None and not init_from.is_file():
        raise UsageError(f"--init-from {init_from} is not a file")
    try:
        cfg = TrainConfig(
            data=data, out=out, val_data=val_data, size=size, epochs=epochs,
            batch_size=batch_size, lr=lr, max_steps=max_steps, max_minutes=max_minutes,
            patience=patience, num_workers=workers, threads=threads,
            loader_workers=loader_workers, seed=seed, tip_per_label=tip_per_label,
            real_backgrounds=backgrounds, p_real_background=p_real_background,
            init_from=init_from, val_limit=val_limit,
            command="kouan " + " ".join(shlex.quote(a) for a in sys.argv[1:]))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise UsageError(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    try:
        from training.xray.data import load_coco

        load_coco(data)
    except (FileNotFoundError, KeyError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    from training.xray.ray_train import run_ray_train

    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(cfg.model_dump_json(indent=1) + "\n")
    logging.getLogger("training").setLevel(logging.INFO)
    summary = run_ray_train(cfg, get_settings().ray_address)
    typer.echo(json.dumps({"train": summary}))
    if evaluate:
        _evaluate(out, real)


@train_app.command("from-version")
def train_from_version(
    onnx_path: Annotated[Path, typer.Argument(help="An exported model.onnx (card.json beside "
                                              "it).")],
    out: Annotated[Path, typer.Option(help="Run folder to create.")],
    data: Annotated[Path, typer.Option(help="COCO dir the version was trained on.")],
    val_data: Annotated[Path | None, typer.Option(help="Held-out COCO dir.")] = None,
    real_backgrounds: Annotated[Path | None, typer.Option(
        help="Real benign scans the version used as TIP backgrounds (left out of "
             "evaluation).")] = None,
) -> None:
    """Make a run folder from an exported version (then `train eval`, `export --tta ...`)."""
    import onnx

    from training.xray.config import TrainConfig
    from training.xray.loop import run_from_version

    if not onnx_path.is_file():
        raise UsageError(f"{onnx_path} is not a file")
    if (out / "checkpoints" / "best.pt").exists():
        raise UsageError(f"{out} already holds a run")
    _existing_dir(data, "--data")
    if val_data is not None:
        _existing_dir(val_data, "--val-data")
    backgrounds = sorted(real_backgrounds.iterdir()) if real_backgrounds is not None else []
    try:
        dims = onnx.load(str(onnx_path)).graph.input[0].type.tensor_type.shape.dim
        card = onnx_path.parent / "card.json"
        # cards before v5 carry no spec: those versions have TrainConfig's default widths
        spec = (json.loads(card.read_text()).get("spec") or {}) if card.is_file() else {}
        fields: dict[str, Any] = {k: v for k, v in spec.items() if k in ("widths", "neck_width")}
        fields.update(data=data, out=out, val_data=val_data, size=int(dims[2].dim_value),
                      real_backgrounds=backgrounds, init_from=onnx_path,
                      command=shlex.join(["kouan", *sys.argv[1:]]))
        cfg = TrainConfig.model_validate(fields)
        ck = run_from_version(onnx_path, cfg)
    except (ValueError, OSError, IndexError) as exc:
        raise UsageError(f"{onnx_path}: {exc}") from None
    (out / "config.json").write_text(cfg.model_dump_json(indent=1) + "\n")
    typer.echo(json.dumps({"run": str(out), "checkpoint": str(ck)}))


def _evaluate(run_dir: Path, real: Path | None, tta: str = "none") -> None:
    from training.xray.evaluate import evaluate_run

    report = evaluate_run(run_dir, real_dir=real, tta=tta)
    typer.echo(json.dumps(report["summary"]))


@train_app.command("eval")
def train_eval(
    run_dir: Annotated[Path, typer.Argument(help="Run folder of `kouan train xray`.")],
    real: Annotated[Path | None, typer.Option(help="Real xray_baggage folder to score.")]
    = None,
    tta: Annotated[TtaChoice, typer.Option(help="Test-time augmentation to evaluate with "
                                           "(export the same).")] = TtaChoice.none,
) -> None:
    """Evaluate a run's best checkpoint (JSON and PNG under RUN_DIR/eval)."""
    _existing_dir(run_dir, "run folder")
    if not (run_dir / "checkpoints" / "best.pt").is_file():
        raise UsageError(f"{run_dir} has no checkpoints/best.pt (train first)")
    _evaluate(run_dir, real, tta.value)


def export_cmd(
    run_dir: Annotated[Path, typer.Argument(help="Run folder of `kouan train xray`.")],
    name: Annotated[str, typer.Option(help="Triton model name.")] = "xray_atr",
    repository: Annotated[Path | None, typer.Option(help="Model repository (default: the "
                                                    "committed serving/model_repository).")]
    = None,
    version: Annotated[int | None, typer.Option(help="Version number (default: next).")]
    = None,
    tta: Annotated[TtaChoice, typer.Option(help="Test-time augmentation baked into the graph "
                                           "(the run must be evaluated with the same).")]
    = TtaChoice.none,
) -> None:
    """Export a run's best checkpoint to ONNX as a new Triton model version, with a card."""
    from serving import xray_atr
    from serving.repository import default_repository
    from training.xray.export import ExportFailed, card, export_onnx, write_card

    _existing_dir(run_dir, "run folder")
    repo = repository or default_repository()
    v = version if version is not None else xray_atr.next_version(repo, name)
    if v < 1:
        raise UsageError("--version must be >= 1")
    version_dir = repo / name / str(v)
    if (version_dir / "model.onnx").exists():
        raise UsageError(f"{version_dir} already holds a model; pick another --version")
    try:
        info = export_onnx(run_dir, version_dir / "model.onnx", tta=tta.value)
    except (ExportFailed, FileNotFoundError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    xray_atr.write_model_config(repo, info["size"], len(info["classes"]), name)
    write_card(version_dir, card(run_dir, info, name, v))
    typer.echo(json.dumps({"model": name, "version": v, "path": str(version_dir),
                           "bytes": info["bytes"], "sha256": info["sha256"],
                           "max_abs_diff_vs_torch": info["max_abs_diff_vs_torch"]}))


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")
    app.command("export")(export_cmd)
