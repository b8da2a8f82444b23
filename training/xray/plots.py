"""Evaluation pictures (matplotlib, Agg): PR curves, confusion matrix, ROC / Pd-FA, overlays."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from vision.atr.types import Detections

U8 = npt.NDArray[np.uint8]


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def pr_curves(curves: dict[str, dict[str, list[float]]], per_class: dict[str, dict[str, float]],
              path: Path, title: str) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 4.5), dpi=90)
    for name, c in curves.items():
        if per_class.get(name, {}).get("n_gt", 0) == 0:
            continue
        ax.plot(c["recall"], c["precision"], label=f"{name} AP50={per_class[name]['AP50']:.2f}")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def confusion(cm: npt.NDArray[np.int64], classes: Sequence[str], path: Path,
              title: str) -> None:
    plt = _plt()
    labels = [*classes, "none"]
    fig, ax = plt.subplots(figsize=(5.5, 4.8), dpi=90)
    ax.imshow(np.log1p(cm), cmap="Blues")
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("predicted (none = missed)")
    ax.set_ylabel("true (none = false alarm)")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def miss_bars(counts: dict[str, dict[str, int]], kinds: Sequence[str], path: Path,
              title: str) -> None:
    """Stacked horizontal bars: per class, the share of objects of each kind."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(counts) + 1.4))
    names = list(counts)
    left = np.zeros(len(names))
    for k, kind in enumerate(kinds):
        share = np.array([counts[n][kind] / max(1, sum(counts[n].values())) for n in names])
        ax.barh(names, share, left=left, label=kind.replace("_", " "),
                color=np.array(COLOURS[[1, 2, 4, 0][k % 4]]) / 255.0)
        left += share
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of ground-truth objects")
    ax.set_title(title)
    ax.invert_yaxis()
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, -0.55 if len(names) < 5 else -0.35),
              ncol=len(kinds), fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def roc(curves: dict[str, tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], float]],
        path: Path, title: str) -> None:
    """``curves``: name -> (false-alarm rates, Pd, AUC)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.0, 4.5), dpi=90)
    for name, (fa, pd, auc) in curves.items():
        ax.step(fa, pd, where="post", label=f"{name} (AUC {auc:.2f})")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
    ax.axvline(0.1, color="red", lw=0.8, ls="--")
    ax.set_xlabel("false-alarm rate (per image)")
    ax.set_ylabel("probability of detection")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


COLOURS = [(230, 25, 75), (60, 180, 75), (255, 140, 0), (0, 130, 200), (145, 30, 180),
           (70, 240, 240), (240, 50, 230), (128, 128, 0)]


def draw(rgb: U8, det: Detections, classes: Sequence[str],
         truth: npt.NDArray[np.float32] | None = None, caption: str = "") -> U8:
    """RGB copy with detections (coloured, labelled) and ground truth (thin white dashes)."""
    img = np.ascontiguousarray(rgb.copy())
    thick = max(1, round(max(img.shape[:2]) / 300))
    if truth is not None:
        for b in truth.reshape(-1, 4):
            x1, y1, x2, y2 = (int(round(v)) for v in b)
            cv2.rectangle(img, (x1, y1), (x2, y2), (255, 255, 255), thick + 2)
            cv2.rectangle(img, (x1, y1), (x2, y2), (0, 0, 0), thick)
    for b, s, c in zip(det.boxes, det.scores, det.class_ids, strict=True):
        col = COLOURS[int(c) % len(COLOURS)]
        x1, y1, x2, y2 = (int(round(v)) for v in b)
        cv2.rectangle(img, (x1, y1), (x2, y2), col, thick + 1)
        cv2.putText(img, f"{classes[int(c)]} {s:.2f}", (x1, max(y1 - 3, 10)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.35 * thick + 0.1, col, thick, cv2.LINE_AA)
    if caption:
        cv2.putText(img, caption, (4, img.shape[0] - 6), cv2.FONT_HERSHEY_SIMPLEX,
                    0.35 * thick + 0.1, (0, 0, 0), thick, cv2.LINE_AA)
    return img


def contact_sheet(tiles: Sequence[U8], cols: int = 4, tile: int = 256) -> U8:
    """Tiles letterboxed to ``tile`` px squares on a grid (white background)."""
    rows = max(1, -(-len(tiles) // cols))
    sheet = np.full((rows * tile, cols * tile, 3), 255, dtype=np.uint8)
    for k, t in enumerate(tiles):
        s = tile / max(t.shape[:2])
        small = cv2.resize(t, (max(1, int(t.shape[1] * s)), max(1, int(t.shape[0] * s))),
                           interpolation=cv2.INTER_AREA)
        r, c = divmod(k, cols)
        sheet[r * tile:r * tile + small.shape[0], c * tile:c * tile + small.shape[1]] = small
    return sheet
