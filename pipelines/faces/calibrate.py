"""Threshold calibration on the real pairs in ``realdata/faces`` (``pairs.csv``, ``labels.json``).

Two pair sets are scored:

* ``pairs.csv``: the curated same/different pairs (166 genuine, 282 impostor);
* ``all pairs``: every pair of single-identity images from ``labels.json`` (more impostors, so
  lower FARs become measurable, but pairs share images and are not independent).

Thresholds are never scored on the pairs they were chosen on: accuracy is reported at dlib's
published threshold (chosen on LFW, not here) and as 10-fold cross-validation (LFW protocol:
threshold picked on 9 folds, accuracy measured on the 10th).
"""

from __future__ import annotations

import csv
import itertools
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from pipelines.faces.analyze import FaceAnalyzer, FaceInputError
from vision.faces.calibration import (
    Roc,
    accuracy,
    at_far,
    best_accuracy_threshold,
    kfold_accuracy,
    roc,
)
from vision.faces.embeddings import DLIB_REFERENCE_THRESHOLD, distances

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    same: bool


def read_pairs(root: Path) -> list[Pair]:
    """``pairs.csv`` rows (``file_x,file_y,same_person``), paths relative to ``root``."""
    with (root / "pairs.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out = []
    for r in rows:
        flag = r["same_person"].strip().lower()
        if flag not in ("true", "false"):
            raise ValueError(f"pairs.csv: bad same_person {r['same_person']!r}")
        out.append(Pair(r["file_x"], r["file_y"], flag == "true"))
    return out


def single_identity_files(root: Path) -> dict[str, str]:
    """``{relative path: identity}`` for still images that show exactly one known person."""
    files = json.loads((root / "labels.json").read_text(encoding="utf-8"))["files"]
    return {name: info["identities"][0] for name, info in sorted(files.items())
            if info.get("media") != "video" and info.get("identities")
            and len(info["identities"]) == 1}


def all_pairs(identities: dict[str, str]) -> list[Pair]:
    return [Pair(a, b, identities[a] == identities[b])
            for a, b in itertools.combinations(sorted(identities), 2)]


def embed_files(analyzer: FaceAnalyzer, root: Path, names: list[str]) -> dict[str, Any]:
    """One embedding per file (the dominant face); files where that fails are skipped and
    logged (they count as failures to enrol in the report)."""
    out: dict[str, Any] = {}
    for name in names:
        try:
            face, _ = analyzer.one_face((root / name).read_bytes(), name)
        except FaceInputError as exc:
            log.warning("calibration: %s", exc)
            continue
        out[name] = face.embedding
    return out


def _pair_distances(emb: dict[str, Any], pairs: list[Pair]) -> tuple[npt.NDArray[np.float64],
                                                                     npt.NDArray[np.bool_]]:
    usable = [p for p in pairs if p.a in emb and p.b in emb]
    d = np.array([float(distances(emb[p.a], emb[p.b])[0, 0]) for p in usable])
    s = np.array([p.same for p in usable], dtype=bool)
    return d, s


@dataclass(frozen=True)
class ScoredPairs:
    distances: npt.NDArray[np.float64]
    same: npt.NDArray[np.bool_]
    curve: Roc


@dataclass(frozen=True)
class PairSetReport:
    name: str
    n_pairs: int
    n_genuine: int
    n_impostor: int
    skipped_pairs: int
    auc: float
    eer: float
    min_measurable_far: float
    tar_at_far_1e2: dict[str, float]
    tar_at_far_1e3: dict[str, float]
    accuracy_at_reference: float
    reference_threshold: float
    cv_accuracy_mean: float
    cv_accuracy_std: float
    cv_thresholds: list[float]
    best_threshold_all_pairs: float
    genuine_distance_max: float
    impostor_distance_min: float


def _eer(curve: Roc) -> float:
    frr = 1.0 - curve.tar
    i = int(np.argmin(np.abs(frr - curve.far)))
    return float((frr[i] + curve.far[i]) / 2.0)


def score_pairs(name: str, emb: dict[str, Any], pairs: list[Pair], folds: int = 10,
                seed: int = 0) -> tuple[PairSetReport, ScoredPairs]:
    d, s = _pair_distances(emb, pairs)
    curve = roc(d, s)
    n_imp = int((~s).sum())
    cv = kfold_accuracy(d, s, folds=folds, seed=seed)
    accs = np.array([f.accuracy for f in cv])
    op2, op3 = at_far(curve, 1e-2), at_far(curve, 1e-3)
    report = PairSetReport(
        name=name, n_pairs=len(d), n_genuine=int(s.sum()), n_impostor=n_imp,
        skipped_pairs=len(pairs) - len(d), auc=round(curve.auc, 6), eer=round(_eer(curve), 6),
        min_measurable_far=round(1.0 / n_imp, 6),
        tar_at_far_1e2={k: round(v, 6) for k, v in asdict(op2).items()},
        tar_at_far_1e3={k: round(v, 6) for k, v in asdict(op3).items()},
        accuracy_at_reference=round(accuracy(d, s, DLIB_REFERENCE_THRESHOLD), 6),
        reference_threshold=DLIB_REFERENCE_THRESHOLD,
        cv_accuracy_mean=round(float(accs.mean()), 6), cv_accuracy_std=round(float(accs.std()), 6),
        cv_thresholds=[round(f.threshold, 4) for f in cv],
        best_threshold_all_pairs=round(best_accuracy_threshold(d, s), 4),
        genuine_distance_max=round(float(d[s].max()), 4),
        impostor_distance_min=round(float(d[~s].min()), 4),
    )
    return report, ScoredPairs(d, s, curve)


def calibrate(analyzer: FaceAnalyzer, root: Path, folds: int = 10) -> tuple[
        dict[str, Any], dict[str, ScoredPairs]]:
    """Embed the real faces and score both pair sets; returns (JSON-able report, ROC curves)."""
    pairs = read_pairs(root)
    identities = single_identity_files(root)
    names = sorted({p.a for p in pairs} | {p.b for p in pairs} | set(identities))
    emb = embed_files(analyzer, root, names)
    curated, scored_curated = score_pairs("pairs.csv", emb, pairs, folds)
    extended, scored_all = score_pairs("all single-identity pairs", emb,
                                    all_pairs({k: v for k, v in identities.items()}), folds)
    report = {
        "models": analyzer.models.name,
        "images": len(names),
        "failed_to_embed": sorted(set(names) - set(emb)),
        "pair_sets": [asdict(curated), asdict(extended)],
    }
    return report, {"pairs.csv": scored_curated, "all pairs": scored_all}


def plot_roc(scored: dict[str, ScoredPairs], path: Path, threshold: float) -> Path:
    """Write a small PNG (well under 200 KB): ROC with a log FAR axis, and the genuine and
    impostor distance histograms with ``threshold`` marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, hx) = plt.subplots(1, 2, figsize=(8.4, 3.4), dpi=90)
    for label, sp in scored.items():
        far = np.maximum(sp.curve.far, 1e-4)
        ax.step(far, sp.curve.tar, where="post",
                label=f"{label}: {sp.same.sum()}+/{(~sp.same).sum()}- (AUC {sp.curve.auc:.4f})")
    for mark in (1e-2, 1e-3):
        ax.axvline(mark, color="grey", lw=0.6, ls=":")
    ax.set_xscale("log")
    ax.set_xlim(1e-4, 1.0)
    ax.set_ylim(0.9, 1.002)
    ax.set_xlabel("false accept rate (log; FAR 0 drawn at 1e-4)")
    ax.set_ylabel("true accept rate")
    ax.set_title("ROC, dlib ResNet 128-d", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    first = next(iter(scored.values()))
    bins = np.linspace(0.0, 1.2, 61)
    hx.hist(first.distances[first.same], bins=bins, alpha=0.6, label="same person")
    hx.hist(first.distances[~first.same], bins=bins, alpha=0.6, label="different people")
    hx.axvline(threshold, color="k", lw=1.0, ls="--", label=f"threshold {threshold:g}")
    hx.set_xlabel("embedding distance")
    hx.set_ylabel("pairs")
    hx.set_title(f"{next(iter(scored))}: distance per pair", fontsize=9)
    hx.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
