"""TTFNet targets and losses, screening metrics, COCO mAP on a tiny file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from training.xray.metrics import (
    MISS_KINDS,
    coco_map,
    confusion_matrix,
    miss_kinds,
    pd_at_fa,
    roc_auc,
)
from training.xray.predict import Prediction
from training.xray.targets import box_loss, encode, focal_loss
from vision.atr.types import Detections


def test_encode_marks_the_centre_and_the_regression_area() -> None:
    t = encode(np.array([[16, 16, 48, 40]], np.float32), np.array([1]), 3, 64, 4)
    assert t.heatmap.shape == (3, 16, 16) and t.box.shape == (4, 16, 16)
    assert t.heatmap[1].max() == 1.0 and t.heatmap[[0, 2]].max() == 0.0
    cy, cx = np.unravel_index(np.argmax(t.heatmap[1]), (16, 16))
    assert (int(cy), int(cx)) == (7, 8)  # centre (32, 28) px -> cell (6.5, 7.5) rounded half up
    assert t.box_weight.sum() == pytest.approx(np.log(32 * 24), rel=1e-4)
    np.testing.assert_allclose(t.box[:, cy, cx], [16, 16, 48, 40])


def test_smaller_object_wins_overlapping_cells() -> None:
    t = encode(np.array([[0, 0, 64, 64], [28, 28, 36, 36]], np.float32), np.array([0, 0]),
               1, 64, 4)
    np.testing.assert_allclose(t.box[:, 7, 7], [28, 28, 36, 36])


def test_losses_are_finite_and_zero_for_perfect_boxes() -> None:
    t = encode(np.array([[8, 8, 40, 24]], np.float32), np.array([0]), 2, 64, 4)
    heat = torch.from_numpy(t.heatmap)[None]
    logits = torch.logit(heat.clamp(1e-4, 1 - 1e-4))
    assert float(focal_loss(logits, heat)) < float(focal_loss(torch.zeros_like(logits), heat))
    w = torch.from_numpy(t.box_weight)[None]
    target = torch.from_numpy(t.box)[None]
    ys, xs = torch.meshgrid(torch.arange(16) * 4 + 2.0, torch.arange(16) * 4 + 2.0,
                            indexing="ij")
    perfect = torch.stack([xs - target[0, 0], ys - target[0, 1], target[0, 2] - xs,
                           target[0, 3] - ys])[None]
    assert float(box_loss(perfect, target, w, 4)) == pytest.approx(0.0, abs=1e-4)
    assert float(box_loss(torch.ones_like(perfect), target, w, 4)) > 0.5


def test_roc_auc_and_pd_at_fa() -> None:
    s = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05], np.float32)
    y = np.array([1, 1, 0, 1, 0, 0, 0, 0, 0, 0], bool)
    assert roc_auc(s, y) == pytest.approx((7 + 7 + 6) / 21)
    p = pd_at_fa(s, y, (0.0, 1 / 7, 0.5))
    assert p["0"]["pd"] == pytest.approx(2 / 3) and p["0"]["fa"] == 0.0
    assert p["0.142857"]["pd"] == pytest.approx(1.0) and p["0.142857"]["fa"] == pytest.approx(
        1 / 7)
    assert p["0.5"]["fa"] <= 0.5
    assert np.isnan(roc_auc(s, np.ones(10, bool)))


def _tiny_coco(path: Path) -> None:
    path.write_text(json.dumps({
        "images": [{"id": 1, "file_name": "a.png", "width": 100, "height": 100},
                   {"id": 2, "file_name": "b.png", "width": 100, "height": 100}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 30, 20],
                         "area": 600, "iscrowd": 0},
                        {"id": 2, "image_id": 2, "category_id": 2, "bbox": [50, 50, 20, 40],
                         "area": 800, "iscrowd": 0}],
        "categories": [{"id": 1, "name": "knife"}, {"id": 2, "name": "laptop"}]}))


def _pred(boxes: list[list[float]], labels: list[int], scores: list[float]) -> Prediction:
    return Prediction(Detections(np.array(boxes, np.float32).reshape(-1, 4),
                                 np.array(scores, np.float32), np.array(labels, np.int64)),
                      np.zeros(2, np.float32))


def test_coco_map_perfect_and_wrong(tmp_path: Path) -> None:
    _tiny_coco(tmp_path / "a.json")
    good = [_pred([[10, 10, 40, 30]], [0], [0.9]), _pred([[50, 50, 70, 90]], [1], [0.8])]
    r = coco_map(tmp_path / "a.json", [1, 2], good, ("knife", "laptop"))
    assert r["mAP50"] == pytest.approx(1.0) and r["mAP50_95"] == pytest.approx(1.0)
    shifted = [_pred([[25, 20, 55, 40]], [0], [0.9]), _pred([[50, 50, 70, 90]], [0], [0.8])]
    r2 = coco_map(tmp_path / "a.json", [1, 2], shifted, ("knife", "laptop"))
    assert r2["per_class"]["laptop"]["AP50"] == 0.0 and r2["mAP50"] < 0.5
    none = coco_map(tmp_path / "a.json", [1, 2], [_pred([], [], []), _pred([], [], [])],
                    ("knife", "laptop"))
    assert none["mAP50"] == 0.0


def test_confusion_matrix_counts_misses_and_false_alarms() -> None:
    gt_boxes = [np.array([[10, 10, 40, 30]], np.float32), np.zeros((0, 4), np.float32)]
    gt_labels = [np.array([0]), np.array([], np.int64)]
    preds = [_pred([[10, 10, 40, 30]], [1], [0.9]), _pred([[0, 0, 5, 5]], [0], [0.9])]
    cm = confusion_matrix(gt_boxes, gt_labels, preds, 2, 0.5)
    assert cm.tolist() == [[0, 1, 0], [0, 0, 0], [1, 0, 0]]


def test_miss_kinds_tell_boxes_classes_and_recall_apart() -> None:
    objects = np.array([[10, 10, 50, 30], [100, 100, 140, 120], [200, 10, 240, 30],
                        [300, 300, 340, 320], [400, 10, 440, 30]], np.float32)
    labels = np.array([0, 0, 0, 1, 1])
    pred = _pred([[10, 10, 50, 30],      # object 0, same class: found
                  [115, 100, 165, 120],  # object 1, same class, IoU 500 / 1300: poorly placed
                  [200, 10, 240, 30],    # object 2 exactly, but class 1: other class
                  [400, 10, 440, 30]],   # object 4 exactly, score below the threshold
                 [0, 0, 1, 1], [0.9, 0.8, 0.7, 0.1])
    kinds = miss_kinds([objects], [labels], [pred], score_threshold=0.3)[0]
    assert [MISS_KINDS[k] for k in kinds] == ["found", "poorly_localised", "other_class",
                                              "not_found", "not_found"]
    assert miss_kinds([np.zeros((0, 4), np.float32)], [np.array([], np.int64)], [pred],
                      0.3)[0].shape == (0,)
