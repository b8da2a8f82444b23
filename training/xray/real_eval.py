"""Image-level threat screening on the real X-ray baggage samples (../shared/realdata).

The real files carry image-level labels only (one GDXray image has a box), so the honest
measure is image-level: the model's threat score per image (maximum of the threat-class
heat-maps, :func:`vision.atr.decode.class_scores`), ROC AUC and Pd at fixed false-alarm rates
against the benign ``negatives/``.

Style confound (see the folder's PROVENANCE.md): image size and saturation alone separate
``negatives/`` from the grey-background ``sixray/`` positives. The main comparison is
therefore ``sixray_white/`` (same scanner export as the negatives) against the negatives, and
a style-only baseline (pixel count, mean saturation) is reported next to the model.

Split: the negatives are split by sorted file name, even positions = ``A`` (may be used as
TIP backgrounds when fine-tuning), odd = ``B`` (evaluation only). A fine-tuned model is only
ever scored against ``B``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from training.xray.data import load_rgb
from training.xray.metrics import pd_at_fa, roc_auc, roc_curve
from training.xray.predict import Prediction, Scorer, predict_images
from vision.atr.boxes import box_iou

F32 = npt.NDArray[np.float32]
POSITIVE_SETS = ("sixray_white", "sixray", "pidray_examples", "gdxray_patches", "gdxray_full")


@dataclass(frozen=True)
class RealFile:
    rel: str
    path: Path
    labels: tuple[str, ...]
    box: tuple[float, float, float, float] | None


def load_real(real_dir: Path) -> list[RealFile]:
    """Every labelled file of ``xray_baggage`` (top-level labels.json + negatives/ + white)."""
    out: list[RealFile] = []
    for labels_file in (real_dir / "labels.json", real_dir / "negatives" / "labels.json",
                        real_dir / "sixray_white" / "labels.json"):
        if not labels_file.is_file():
            continue
        meta = json.loads(labels_file.read_text(encoding="utf-8"))
        base = labels_file.parent
        for rel, entry in meta["files"].items():
            path = base / rel
            if not path.is_file():
                continue
            boxes = entry.get("boxes") or []
            b = [float(v) for v in boxes[0]["bbox_xyxy_clipped"]] if boxes else None
            box = (b[0], b[1], b[2], b[3]) if b else None
            key = str(path.relative_to(real_dir))
            out.append(RealFile(key, path, tuple(entry.get("labels") or []),
                                box))
    return sorted(out, key=lambda f: f.rel)


def negative_split(files: list[RealFile]) -> tuple[list[RealFile], list[RealFile]]:
    """(A, B): benign files at even / odd positions of the sorted list."""
    neg = [f for f in files if f.rel.startswith("negatives/")]
    return neg[0::2], neg[1::2]


def style_features(path: Path) -> dict[str, float]:
    """Trivial image statistics that must not be what a threat score measures."""
    rgb = load_rgb(path)
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    return {"pixel_count": float(rgb.shape[0] * rgb.shape[1]),
            "mean_saturation": float(hsv[..., 1].mean())}


def _auc_block(scores: F32, positive: npt.NDArray[np.bool_]) -> dict[str, Any]:
    auc = roc_auc(scores, positive)
    return {"n_pos": int(positive.sum()), "n_neg": int((~positive).sum()),
            "auc": round(auc, 4), "pd_at_fa": pd_at_fa(scores, positive)}


def evaluate_real(scorer: Scorer, size: int, classes: tuple[str, ...], real_dir: Path,
                  threat_classes: tuple[str, ...], excluded: set[str] | None = None
                  ) -> tuple[dict[str, Any], list[tuple[RealFile, Prediction]]]:
    """Scores every real file; ``excluded`` relative paths (used in training) are left out of
    every metric. Returns (report, per-file predictions)."""
    files = [f for f in load_real(real_dir) if f.rel not in (excluded or set())]
    if not files:
        raise FileNotFoundError(f"no labelled real files under {real_dir}")
    preds = predict_images(scorer, (load_rgb(f.path) for f in files), size)
    idx = [classes.index(c) for c in threat_classes]
    score = np.array([float(p.class_scores[idx].max()) for p in preds], dtype=np.float32)
    is_neg = np.array([f.rel.startswith("negatives/") for f in files])
    sets = {name: np.array([f.rel.startswith(name + "/") for f in files]) for name in
            POSITIVE_SETS}
    report: dict[str, Any] = {"n_files": len(files), "n_negatives": int(is_neg.sum()),
                              "excluded_from_eval": sorted(excluded or set()), "sets": {}}
    for name, mask in sets.items():
        sel = mask | is_neg
        if mask.any() and is_neg.any():
            report["sets"][name] = _auc_block(score[sel], mask[sel])
    all_pos = ~is_neg
    report["sets"]["all_positives"] = _auc_block(score, all_pos)
    # style-only baselines on the main comparison (same-style white export vs negatives)
    white = sets["sixray_white"] | is_neg
    if sets["sixray_white"].any() and is_neg.any():
        feats = [style_features(f.path) for f, w in zip(files, white, strict=True) if w]
        y = sets["sixray_white"][white]
        base: dict[str, float] = {}
        for k in ("pixel_count", "mean_saturation"):
            v = np.array([ft[k] for ft in feats], dtype=np.float32)
            a = roc_auc(v, y)
            base[k] = round(max(a, 1 - a), 4)
        report["style_baseline_auc_white_vs_negatives"] = base
        fa, pd = roc_curve(score[white], y)
        report["roc_white"] = {"fa": fa.tolist(), "pd": pd.tolist()}
    # per positive label: mean score (which threat kinds the model sees)
    by_label: dict[str, list[float]] = {}
    for f, s in zip(files, score, strict=True):
        for lab in f.labels:
            by_label.setdefault(lab, []).append(float(s))
    report["mean_score_by_label"] = {k: round(float(np.mean(v)), 4) for k, v in
                                     sorted(by_label.items())}
    report["mean_score_negatives"] = round(float(score[is_neg].mean()), 4) if is_neg.any() \
        else None
    # the one real box: best IoU of any detection with it
    for f, p in zip(files, preds, strict=True):
        if f.box is not None:
            ious = box_iou(p.detections.boxes, np.array([f.box], np.float32))[:, 0]
            report["gdxray_box"] = {"file": f.rel, "best_iou": round(float(ious.max()), 3)
                                    if ious.size else 0.0,
                                    "threat_score": round(float(score[files.index(f)]), 4)}
    report["per_file"] = {f.rel: round(float(s), 4) for f, s in zip(files, score, strict=True)}
    return report, list(zip(files, preds, strict=True))
