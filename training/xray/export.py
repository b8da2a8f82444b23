"""Export a run's best checkpoint to ONNX with a model card (no Triton knowledge here: the
CLI puts the files into the model repository and renders its ``config.pbtxt`` with
:mod:`serving.xray_atr`).

ONNX graph: input ``images`` uint8 ``[N, 3, S, S]`` (RGB, letterboxed, see
:mod:`vision.atr.letterbox`), outputs ``heatmap`` float32 ``[N, C, S/4, S/4]`` (sigmoid) and
``ltrb`` float32 ``[N, 4, S/4, S/4]`` (box distances in input pixels, see
:mod:`vision.atr.decode`). Opset 17, legacy exporter (``dynamo=False``: no onnxscript needed,
``dynamic_axes`` for the batch).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from training.xray.evaluate import load_run
from training.xray.model import STRIDE, count_parameters
from training.xray.tta import with_tta

OPSET = 17
INPUT = "images"
OUTPUTS = ("heatmap", "ltrb")
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def portable_path(path: str | Path, root: Path = PROJECT_ROOT) -> str:
    """``path`` as a card records it: relative to the project ``root`` when it lies in the
    folder that holds the project (``var/atr/synth_train``, ``../shared/realdata/...``), so a
    committed card names no machine's checkout; absolute otherwise."""
    resolved = Path(path).resolve()
    if resolved.is_relative_to(root.parent):
        return os.path.relpath(resolved, root)
    return str(resolved)


class ExportFailed(ValueError):
    """The run cannot be exported (missing checkpoint, ONNX differs from torch)."""


def export_onnx(run_dir: Path, target: Path, which: str = "best", tta: str = "none"
                ) -> dict[str, Any]:
    """Write ``target`` (atomically) and check ONNX Runtime against torch on a random batch.

    ``tta`` bakes test-time augmentation into the graph (:mod:`training.xray.tta`); the run's
    evaluation must have been made with the same ``tta`` so the card's metrics describe the
    exported function. Returns facts for the card: classes, size, stride, parameters, bytes,
    sha256, max_abs_diff.
    """
    import onnxruntime as ort

    evaluated = (_read_json(run_dir / "eval" / "metrics.json") or {}).get("tta", "none")
    if evaluated != tta:
        raise ExportFailed(f"{run_dir}/eval was made with tta={evaluated!r}, not {tta!r}: run "
                           f"`kouan train eval {run_dir} --tta {tta}` first so the card's "
                           "metrics describe the exported model")
    try:
        model, ck = load_run(run_dir, which)
        model = with_tta(model, tta)
    except (FileNotFoundError, ValueError) as exc:
        raise ExportFailed(str(exc)) from None
    size = int(ck["size"])
    dummy = torch.randint(0, 256, (2, 3, size, size), dtype=torch.uint8)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".model.", suffix=".onnx")
    os.close(fd)
    try:
        torch.onnx.export(model, (dummy,), tmp, input_names=[INPUT], output_names=list(OUTPUTS),
                          dynamic_axes={INPUT: {0: "N"}, OUTPUTS[0]: {0: "N"},
                                        OUTPUTS[1]: {0: "N"}},
                          opset_version=OPSET, dynamo=False)
        sess = ort.InferenceSession(tmp, providers=["CPUExecutionProvider"])
        got = sess.run(list(OUTPUTS), {INPUT: dummy.numpy()})
        with torch.no_grad():
            want = model(dummy)
        diff = max(float(np.abs(g - w.numpy()).max()) for g, w in zip(got, want, strict=True))
        if diff > 1e-3:
            raise ExportFailed(f"ONNX output differs from torch by {diff:.2e}")
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    data = target.read_bytes()
    return {"classes": list(ck["classes"]), "size": size, "stride": STRIDE,
            "parameters": count_parameters(model), "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(), "max_abs_diff_vs_torch": diff,
            "epoch": int(ck["state"]["epoch"]), "checkpoint": f"{which}.pt", "tta": tta,
            "spec": ck["spec"], "config": ck["config"]}


def card(run_dir: Path, info: dict[str, Any], name: str, version: int) -> dict[str, Any]:
    """The model card (JSON): what, how it was made, how good, how to operate it."""
    metrics_file = run_dir / "eval" / "metrics.json"
    metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
    cfg = info["config"]
    real = metrics.get("real", {})
    return {
        "name": name, "version": version,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "architecture": "TTFNet-lite (plain 3x3 CNN, top-down neck to stride 4, Gaussian "
                        "heat-map + ltrb box head), trained from scratch",
        "input": {"name": INPUT, "dtype": "uint8", "shape": ["N", 3, info["size"],
                                                              info["size"]],
                  "layout": "RGB, letterboxed (longer side = size, white padding right/bottom)"},
        "outputs": {"heatmap": ["N", len(info["classes"]), info["size"] // STRIDE,
                                info["size"] // STRIDE],
                    "ltrb": ["N", 4, info["size"] // STRIDE, info["size"] // STRIDE]},
        "classes": info["classes"], "stride": STRIDE, "parameters": info["parameters"],
        "test_time_augmentation": info["tta"], "spec": info["spec"],
        "onnx": {"bytes": info["bytes"], "sha256": info["sha256"], "opset": OPSET,
                 "max_abs_diff_vs_torch": info["max_abs_diff_vs_torch"]},
        "training": {"command": cfg.get("command"), "seed": cfg.get("seed"),
                     "data": portable_path(cfg["data"]),
                     "val_data": portable_path(cfg["val_data"]) if cfg.get("val_data") else None,
                     "init_from": portable_path(cfg["init_from"]) if cfg.get("init_from")
                     else None,
                     "real_backgrounds": [portable_path(p)
                                          for p in cfg.get("real_backgrounds", [])],
                     "epochs_trained": info["epoch"], "checkpoint": info["checkpoint"],
                     "summary": _read_json(run_dir / "train_summary.json")},
        "metrics": {"summary": metrics.get("summary"),
                    "synthetic_per_class": (metrics.get("synthetic") or {}).get("per_class"),
                    "synthetic_image_level": (metrics.get("synthetic") or {}).get(
                        "image_level"),
                    "real_sets": real.get("sets"),
                    "real_style_baseline_auc": real.get(
                        "style_baseline_auc_white_vs_negatives"),
                    "real_excluded_from_eval": real.get("excluded_from_eval")},
        "operating_thresholds": metrics.get("operating_thresholds"),
    }


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text()) if path.is_file() else None


def card_markdown(c: dict[str, Any]) -> str:
    """A human-readable rendering of :func:`card`."""
    s = (c["metrics"] or {}).get("summary") or {}
    lines = [
        f"# {c['name']} v{c['version']} - X-ray baggage threat detector",
        "",
        f"* Architecture: {c['architecture']}; {c['parameters']} parameters, "
        f"{c['onnx']['bytes'] / 1e6:.2f} MB ONNX (opset {c['onnx']['opset']}).",
        f"* Input `{c['input']['name']}` uint8 {c['input']['shape']} ({c['input']['layout']}).",
        f"* Classes: {', '.join(c['classes'])}.",
        f"* Test-time augmentation in the graph: {c.get('test_time_augmentation', 'none')} "
        "(training/xray/tta.py).",
        f"* Command: `{c['training']['command']}` (seed {c['training']['seed']}).",
        f"* Data: {c['training']['data']} (val {c['training']['val_data']}); real TIP "
        f"backgrounds: {len(c['training']['real_backgrounds'])} files.",
        "",
        "## Metrics",
        "",
        "```json",
        json.dumps(s, indent=1),
        "```",
        "",
        "## Operating thresholds",
        "",
        "```json",
        json.dumps(c.get("operating_thresholds"), indent=1),
        "```",
        "",
        "Full numbers: `card.json` next to this file.",
    ]
    return "\n".join(lines) + "\n"


def write_card(version_dir: Path, c: dict[str, Any]) -> None:
    (version_dir / "card.json").write_text(json.dumps(c, indent=1, default=str) + "\n")
    (version_dir / "MODEL_CARD.md").write_text(card_markdown(c))
