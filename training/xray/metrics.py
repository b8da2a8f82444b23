"""Detection and screening metrics: COCO mAP (pycocotools), PR curves, confusion matrix,
probability of detection at fixed false-alarm rates, ROC AUC.

Boxes are source-image pixel xyxy; COCO files use xywh (converted here).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from training.xray.predict import Prediction
from vision.atr.boxes import box_iou

F32 = npt.NDArray[np.float32]
FA_RATES = (0.01, 0.05, 0.10, 0.20)


def coco_map(annotation_file: Path, image_ids: Sequence[int], predictions: Sequence[Prediction],
             classes: Sequence[str]) -> dict[str, Any]:
    """COCO bbox AP over ``image_ids`` (predictions in the same order).

    Returns ``mAP50``, ``mAP50_95`` (means over classes with ground truth), ``per_class``
    {name: {AP50, AP50_95, n_gt}} and ``pr_curves`` {name: {recall, precision}} at IoU 0.5.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(annotation_file))
    results = []
    for img_id, pred in zip(image_ids, predictions, strict=True):
        d = pred.detections
        for b, s, c in zip(d.boxes, d.scores, d.class_ids, strict=True):
            results.append({"image_id": int(img_id), "category_id": int(c) + 1,
                            "bbox": [float(b[0]), float(b[1]), float(b[2] - b[0]),
                                     float(b[3] - b[1])], "score": float(s)})
    n_gt = {name: len(gt.getAnnIds(imgIds=list(image_ids), catIds=[k + 1]))
            for k, name in enumerate(classes)}
    per_class: dict[str, dict[str, float]] = {}
    curves: dict[str, dict[str, list[float]]] = {}
    if results:
        with contextlib.redirect_stdout(io.StringIO()):
            dt = gt.loadRes(results)
            ev = COCOeval(gt, dt, "bbox")
            ev.params.imgIds = [int(i) for i in image_ids]
            ev.evaluate()
            ev.accumulate()
        prec = ev.eval["precision"]  # [T, R, K, A, M]; A=0 all areas, M=-1 maxDets=100
        rec_thr = np.asarray(ev.params.recThrs)
        for k, name in enumerate(classes):
            p = prec[:, :, k, 0, -1]
            valid = p[p > -1]
            ap50 = float(np.mean(p[0][p[0] > -1])) if (p[0] > -1).any() else 0.0
            per_class[name] = {"AP50": ap50,
                               "AP50_95": float(np.mean(valid)) if valid.size else 0.0,
                               "n_gt": n_gt[name]}
            curves[name] = {"recall": rec_thr.tolist(),
                            "precision": np.clip(p[0], 0, 1).tolist()}
    else:
        per_class = {n: {"AP50": 0.0, "AP50_95": 0.0, "n_gt": n_gt[n]} for n in classes}
    present = [n for n in classes if n_gt[n] > 0]
    return {
        "mAP50": float(np.mean([per_class[n]["AP50"] for n in present])) if present else 0.0,
        "mAP50_95": float(np.mean([per_class[n]["AP50_95"] for n in present])) if present
        else 0.0,
        "per_class": per_class, "pr_curves": curves, "n_images": len(image_ids),
    }


def confusion_matrix(gt_boxes: Sequence[F32], gt_labels: Sequence[npt.NDArray[np.int64]],
                     predictions: Sequence[Prediction], num_classes: int,
                     score_threshold: float, iou: float = 0.5) -> npt.NDArray[np.int64]:
    """``[C + 1, C + 1]`` counts: rows = true class (last = background, i.e. a false alarm),
    columns = predicted class (last = missed). Greedy matching by score, class-agnostic IoU."""
    cm = np.zeros((num_classes + 1, num_classes + 1), dtype=np.int64)
    for boxes, labels, pred in zip(gt_boxes, gt_labels, predictions, strict=True):
        d = pred.detections.select(pred.detections.scores >= score_threshold)
        order = np.argsort(-d.scores)
        ious = box_iou(d.boxes, boxes) if len(d) and len(boxes) else np.zeros((len(d),
                                                                                len(boxes)))
        used = np.zeros(len(boxes), dtype=bool)
        for i in order:
            cand = np.where(~used & (ious[i] >= iou))[0] if len(boxes) else np.array([], int)
            if cand.size:
                j = cand[np.argmax(ious[i, cand])]
                used[j] = True
                cm[int(labels[j]), int(d.class_ids[i])] += 1
            else:
                cm[num_classes, int(d.class_ids[i])] += 1
        for j in np.where(~used)[0]:
            cm[int(labels[j]), num_classes] += 1
    return cm


MISS_KINDS = ("found", "poorly_localised", "other_class", "not_found")


def miss_kinds(gt_boxes: Sequence[F32], gt_labels: Sequence[npt.NDArray[np.int64]],
               predictions: Sequence[Prediction], score_threshold: float, iou: float = 0.5,
               loose_iou: float = 0.1) -> list[npt.NDArray[np.int64]]:
    """Why each ground-truth object is or is not found, per image ``[n_objects]`` indexes
    into :data:`MISS_KINDS`, judged on the boxes scoring >= ``score_threshold``:
    ``found`` (a same-class box at IoU >= ``iou``), ``poorly_localised`` (same class, best IoU
    in [``loose_iou``, ``iou``)), ``other_class`` (only another class's box at IoU >= ``iou``),
    ``not_found`` (nothing). Tells an ML engineer whether to work on boxes, classes or recall."""
    out = []
    for boxes, labels, pred in zip(gt_boxes, gt_labels, predictions, strict=True):
        d = pred.detections.select(pred.detections.scores >= score_threshold)
        kinds = np.full(len(boxes), MISS_KINDS.index("not_found"), dtype=np.int64)
        if len(d) and len(boxes):
            ious = box_iou(d.boxes, boxes)  # [detections, objects]
            for j, lab in enumerate(labels):
                same = ious[d.class_ids == lab, j]
                best_same = float(same.max()) if same.size else 0.0
                if best_same >= iou:
                    kinds[j] = MISS_KINDS.index("found")
                elif best_same >= loose_iou:
                    kinds[j] = MISS_KINDS.index("poorly_localised")
                elif float(ious[:, j].max()) >= iou:
                    kinds[j] = MISS_KINDS.index("other_class")
        out.append(kinds)
    return out


def roc_auc(scores: F32, positive: npt.NDArray[np.bool_]) -> float:
    """Area under the ROC curve (Mann-Whitney U with ties counted half); NaN if one class."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(positive, dtype=bool)
    pos, neg = s[y], s[~y]
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (pos.size * neg.size))


def pd_at_fa(scores: F32, positive: npt.NDArray[np.bool_],
             fa_rates: Sequence[float] = FA_RATES) -> dict[str, dict[str, float]]:
    """Probability of detection at fixed per-image false-alarm rates.

    For each rate r the threshold is the smallest score that flags at most a fraction r of
    the negative images; Pd is the fraction of positives at or above it.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(positive, dtype=bool)
    neg = np.sort(s[~y])[::-1]
    out: dict[str, dict[str, float]] = {}
    for r in fa_rates:
        if neg.size == 0 or not y.any():
            out[f"{r:g}"] = {"threshold": float("nan"), "pd": float("nan"), "fa": float("nan")}
            continue
        k = int(np.floor(r * neg.size))  # negatives allowed above the threshold
        thr = float(np.nextafter(neg[k], np.inf)) if k < neg.size else float(neg[-1])
        out[f"{r:g}"] = {"threshold": thr, "pd": float((s[y] >= thr).mean()),
                         "fa": float((s[~y] >= thr).mean())}
    return out


def roc_curve(scores: F32, positive: npt.NDArray[np.bool_]) -> tuple[F32, F32]:
    """(false-alarm rate, Pd) points for every threshold, ascending FA."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(positive, dtype=bool)
    thr = np.unique(s)[::-1]
    fa = np.array([0.0] + [float((s[~y] >= t).mean()) if (~y).any() else 0.0 for t in thr])
    pd = np.array([0.0] + [float((s[y] >= t).mean()) if y.any() else 0.0 for t in thr])
    return fa.astype(np.float32), pd.astype(np.float32)
