"""TTFNet training targets and losses.

Targets for one image (model input ``S x S``, grid ``h = w = S / stride``):

* ``heatmap`` float32 ``[C, h, w]``: for each object an elliptical Gaussian at its box centre
  with sigma_x = alpha * box_w / 6, sigma_y = alpha * box_h / 6 (alpha = 0.54), max-merged;
* ``box`` float32 ``[4, h, w]``: the object's xyxy box (input pixels) at the cells where
  regression is trained (a smaller Gaussian, beta = 0.54, around the centre);
* ``box_weight`` float32 ``[h, w]``: the Gaussian value there, normalised so each object
  sums to log(area) (large objects count more, but not linearly).

Smaller objects are written last, so where objects overlap the cell belongs to the smaller.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor
from torchvision.ops import generalized_box_iou_loss

F32 = npt.NDArray[np.float32]
ALPHA = 0.54
BETA = 0.54


@dataclass(frozen=True)
class Targets:
    heatmap: F32
    box: F32
    box_weight: F32


def _gaussian(h: int, w: int, cx: float, cy: float, sx: float, sy: float) -> F32:
    ys = np.arange(h, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    g = np.exp(-((xs - cx) ** 2) / (2 * sx * sx) - ((ys - cy) ** 2) / (2 * sy * sy))
    return np.asarray(g, dtype=np.float32)


def encode(boxes_xyxy: F32, labels: npt.NDArray[np.int64], num_classes: int, size: int,
           stride: int) -> Targets:
    """Targets for boxes (model-input pixels, ``[N, 4]``) with class indexes ``labels``."""
    h = w = size // stride
    heat = np.zeros((num_classes, h, w), dtype=np.float32)
    box = np.zeros((4, h, w), dtype=np.float32)
    weight = np.zeros((h, w), dtype=np.float32)
    b = np.asarray(boxes_xyxy, dtype=np.float32).reshape(-1, 4)
    areas = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    for i in np.argsort(-areas, kind="stable"):
        x1, y1, x2, y2 = (float(v) for v in b[i])
        bw, bh = (x2 - x1) / stride, (y2 - y1) / stride
        if bw <= 0 or bh <= 0:
            continue
        cx, cy = (x1 + x2) / 2 / stride - 0.5, (y1 + y2) / 2 / stride - 0.5
        g = _gaussian(h, w, cx, cy, max(ALPHA * bw / 6, 0.3), max(ALPHA * bh / 6, 0.3))
        c = int(labels[i])
        ci = min(max(math.floor(cy + 0.5), 0), h - 1)  # half up, not banker's rounding
        cj = min(max(math.floor(cx + 0.5), 0), w - 1)
        heat[c] = np.maximum(heat[c], g)
        heat[c, ci, cj] = 1.0  # the centre cell is the one positive of the focal loss
        gb = _gaussian(h, w, cx, cy, max(BETA * bw / 6, 0.3), max(BETA * bh / 6, 0.3))
        region = gb > 0.05
        region[ci, cj] = True  # a tiny object still trains its centre cell
        total = float(gb[region].sum())
        if total <= 0:
            continue
        box[:, region] = np.array([x1, y1, x2, y2], dtype=np.float32)[:, None]
        weight[region] = gb[region] / total * math.log(max(areas[i], 2.0))
    return Targets(heat, box, weight)


def focal_loss(logits: Tensor, target: Tensor) -> Tensor:
    """CenterNet's penalty-reduced focal loss, normalised by the number of object centres."""
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos = target.ge(1.0)
    neg_w = torch.pow(1 - target, 4)
    pos_loss = torch.log(p) * torch.pow(1 - p, 2) * pos
    neg_loss = torch.log(1 - p) * torch.pow(p, 2) * neg_w * (~pos)
    n_pos = pos.sum().clamp(min=1).to(logits.dtype)
    return -(pos_loss.sum() + neg_loss.sum()) / n_pos


def grid_centres(h: int, w: int, stride: int, device: torch.device) -> Tensor:
    """Cell centres in input pixels, ``[2, h, w]`` (x, y)."""
    ys = (torch.arange(h, device=device, dtype=torch.float32) + 0.5) * stride
    xs = (torch.arange(w, device=device, dtype=torch.float32) + 0.5) * stride
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx, gy])


def box_loss(ltrb: Tensor, box_target: Tensor, weight: Tensor, stride: int) -> Tensor:
    """GIoU loss of predicted boxes at weighted cells; ``ltrb`` ``[N, 4, h, w]``."""
    n, _, h, w = ltrb.shape
    ctr = grid_centres(h, w, stride, ltrb.device)
    pred = torch.cat([ctr - ltrb[:, :2], ctr + ltrb[:, 2:]], dim=1)
    mask = weight > 0
    if not bool(mask.any()):
        return ltrb.sum() * 0.0
    p = pred.permute(0, 2, 3, 1)[mask]
    t = box_target.permute(0, 2, 3, 1)[mask]
    wv = weight[mask]
    # a degenerate prediction (zero size) still has a defined GIoU gradient
    p = torch.cat([p[:, :2], torch.maximum(p[:, 2:], p[:, :2] + 1e-3)], dim=1)
    loss = generalized_box_iou_loss(p, t, reduction="none")
    out: Tensor = (loss * wv).sum() / wv.sum().clamp(min=1e-6)
    return out
