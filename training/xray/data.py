"""Datasets for the X-ray detector: COCO scans from :mod:`datasets.synth` (+ real benign scans
as TIP backgrounds), letterboxed to the model size, augmented, encoded as TTFNet targets.

A sample is ``(image uint8 [3, S, S], heatmap [C, h, w], box [4, h, w], box_weight [h, w])``
as torch tensors; ``S`` = model input size, ``h = w = S / 4``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import torch
from torch.utils.data import Dataset

from datasets.scan_io import ScanFormatError, load_backscatter, load_dual_energy, load_pseudo_colour
from training.xray.augment import attenuation_jitter, train_transform
from training.xray.model import STRIDE
from training.xray.targets import encode
from training.xray.tip import Sprite, paste
from vision.atr.letterbox import letterbox, to_chw

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class CocoImage:
    """One image of a COCO file: paths, boxes (source pixels xyxy) and class indexes."""

    image_id: int
    path: Path
    boxes: F32
    labels: npt.NDArray[np.int64]
    raw_low: Path | None = None
    raw_high: Path | None = None
    raw_encoding: str = "linear"


@dataclass(frozen=True)
class CocoSet:
    classes: tuple[str, ...]
    images: tuple[CocoImage, ...]
    annotation_file: Path


def load_coco(data_dir: Path) -> CocoSet:
    """Read ``<data_dir>/annotations.json`` (as written by ``kouan datasets synth xray``)."""
    ann_file = data_dir / "annotations.json"
    if not ann_file.is_file():
        raise FileNotFoundError(f"{data_dir} has no annotations.json (generate data with "
                                "`kouan datasets synth xray --kind baggage ...`)")
    coco = json.loads(ann_file.read_text(encoding="utf-8"))
    cats = sorted(coco["categories"], key=lambda c: c["id"])
    classes = tuple(str(c["name"]) for c in cats)
    index = {c["id"]: i for i, c in enumerate(cats)}
    per_image: dict[int, list[dict[str, Any]]] = {}
    for a in coco["annotations"]:
        per_image.setdefault(int(a["image_id"]), []).append(a)
    images = []
    for im in coco["images"]:
        anns = per_image.get(int(im["id"]), [])
        boxes = np.array([[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2],
                           a["bbox"][1] + a["bbox"][3]] for a in anns],
                         dtype=np.float32).reshape(-1, 4)
        labels = np.array([index[a["category_id"]] for a in anns], dtype=np.int64)
        low, high = im.get("raw_low"), im.get("raw_high")
        images.append(CocoImage(int(im["id"]), data_dir / im["file_name"], boxes, labels,
                                data_dir / low if low else None,
                                data_dir / high if high else None,
                                str(im.get("raw_encoding", "linear"))))
    return CocoSet(classes, tuple(images), ann_file)


@dataclass(frozen=True)
class AugmentOptions:
    """Probabilities of the physics-aware augmentations (0 disables one)."""

    strength: float = 1.0
    p_attenuation: float = 0.3
    p_tip: float = 0.5
    p_real_background: float = 0.0


class DetectionDataset(Dataset[tuple[torch.Tensor, ...]]):
    """Letterboxed, optionally augmented samples with TTFNet targets."""

    def __init__(self, items: list[CocoImage], classes: tuple[str, ...], size: int,
                 augment: AugmentOptions | None = None, sprites: list[Sprite] | None = None,
                 backgrounds: list[U8] | None = None, seed: int = 0) -> None:
        if size % 32:
            raise ValueError(f"model size must be a multiple of 32, got {size}")
        self.items, self.classes, self.size = items, classes, size
        self.augment = augment
        self.transform = train_transform(augment.strength) if augment else None
        self.sprites = sprites or []
        self.backgrounds = backgrounds or []
        self.seed = seed
        self._epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self._epoch = epoch

    def __len__(self) -> int:
        return len(self.items)

    def _rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence([self.seed, self._epoch, index]))

    def _source(self, item: CocoImage, rng: np.random.Generator) -> U8:
        aug = self.augment
        if (aug and item.raw_low and item.raw_high and rng.random() < aug.p_attenuation):
            low, high = load_dual_energy(item.raw_low, item.raw_high,
                                         "log" if item.raw_encoding == "log" else "linear")
            return attenuation_jitter(low, high, float(np.exp(rng.uniform(-0.5, 0.5))))
        return load_rgb(item.path)

    def _tip(self, img: U8, boxes: list[list[float]], labels: list[int],
             rng: np.random.Generator) -> U8:
        """Paste 1-2 sprites inside the bag (non-white area) of ``img``."""
        bag = np.argwhere(img.min(axis=2) < 230)
        if len(bag) == 0:
            return img
        for _ in range(int(rng.integers(1, 3))):
            sp = self.sprites[int(rng.integers(0, len(self.sprites)))]
            if sp.label not in self.classes:
                continue
            scale = self.size / 320.0 * float(rng.uniform(0.8, 1.2))
            small = cv2.resize(sp.rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            rgb: U8 = np.ascontiguousarray(np.rot90(small, int(rng.integers(0, 4))),
                                           dtype=np.uint8)
            y, x = bag[int(rng.integers(0, len(bag)))]
            done = paste(img, rgb, int(x) - rgb.shape[1] // 2, int(y) - rgb.shape[0] // 2)
            if done is None:
                continue
            img, box = done
            boxes.append(list(box))
            labels.append(self.classes.index(sp.label))
        return img

    def sample(self, index: int) -> tuple[U8, F32, npt.NDArray[np.int64]]:
        """Letterboxed (augmented) uint8 ``(S, S, 3)`` image, boxes ``[N, 4]``, labels."""
        item = self.items[index]
        rng = self._rng(index)
        aug = self.augment
        use_real = bool(aug and self.backgrounds and self.sprites
                        and rng.random() < aug.p_real_background)
        if use_real:
            bg = self.backgrounds[int(rng.integers(0, len(self.backgrounds)))]
            img, _ = letterbox(bg, self.size)
            boxes_l: list[list[float]] = []
            labels_l: list[int] = []
        else:
            img, lb = letterbox(self._source(item, rng), self.size)
            boxes_l = lb.to_model(item.boxes).tolist()
            labels_l = [int(v) for v in item.labels]
        if aug and self.sprites and (use_real or rng.random() < aug.p_tip):
            img = self._tip(img, boxes_l, labels_l, rng)
        boxes = np.asarray(boxes_l, dtype=np.float32).reshape(-1, 4)
        labels = np.asarray(labels_l, dtype=np.int64)
        if self.transform is not None:
            # albumentations draws from Python's and numpy's global generators
            self.transform.set_random_seed(int(rng.integers(0, 2**31 - 1)))
            out = self.transform(image=img, bboxes=boxes, labels=labels)
            img = np.ascontiguousarray(out["image"])
            boxes = np.asarray(out["bboxes"], dtype=np.float32).reshape(-1, 4)
            labels = np.asarray(out["labels"], dtype=np.int64)
        return img, boxes, labels

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        img, boxes, labels = self.sample(index)
        t = encode(boxes, labels, len(self.classes), self.size, STRIDE)
        return (torch.from_numpy(to_chw(img)), torch.from_numpy(t.heatmap),
                torch.from_numpy(t.box), torch.from_numpy(t.box_weight))


def load_rgb(path: Path) -> U8:
    """An 8-bit scan picture as uint8 RGB ``(H, W, 3)``: pseudo-colour as is, single-channel
    grey (GDXray, single-energy scanners) replicated to three channels. Files are recognised
    by content (:mod:`datasets.scan_io`); bad files raise ``ScanFormatError``."""
    try:
        return load_pseudo_colour(path)
    except ScanFormatError as colour_error:
        try:
            grey = load_backscatter(path)  # any 8/16-bit single-channel image, in [0, 1]
        except ScanFormatError:
            raise colour_error from None
        u8 = np.clip(np.rint(grey * 255.0), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(u8[:, :, None], 3, axis=2))


def load_backgrounds(files: list[Path], max_side: int = 640) -> list[U8]:
    """Real benign scans (RGB uint8, downscaled so the longer side is <= ``max_side``)."""
    out = []
    for f in files:
        rgb = load_rgb(f)
        s = max_side / max(rgb.shape[:2])
        if s < 1:
            rgb = np.asarray(cv2.resize(rgb, None, fx=s, fy=s, interpolation=cv2.INTER_AREA),
                             dtype=np.uint8)
        out.append(np.ascontiguousarray(rgb))
    return out
