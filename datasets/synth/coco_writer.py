"""Minimal COCO detection/segmentation writer (boxes in COCO xywh, masks as RLE).

Generators give pixel xyxy boxes (x2/y2 exclusive); COCO wants [x, y, width, height].
Masks are encoded with ``pycocotools.mask.encode`` (Fortran-order uint8) and stored with the
RLE ``counts`` as a UTF-8 string, which ``pycocotools.coco.COCO`` loads directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pycocotools import mask as mask_utils

from datasets.scan_io import write_json


class CocoWriter:
    """Accumulates images and annotations; categories get ids 1..N in the given order."""

    def __init__(self, categories: Sequence[str], info: dict[str, Any] | None = None):
        if len(set(categories)) != len(categories):
            raise ValueError("duplicate category names")
        self.categories = list(categories)
        self.info = dict(info or {})
        self.images: list[dict[str, Any]] = []
        self.annotations: list[dict[str, Any]] = []

    def category_id(self, name: str) -> int:
        try:
            return self.categories.index(name) + 1
        except ValueError:
            raise ValueError(f"unknown category {name!r}") from None

    def add_image(self, file_name: str, height: int, width: int, **extra: Any) -> int:
        image_id = len(self.images) + 1
        self.images.append({"id": image_id, "file_name": file_name, "height": int(height),
                            "width": int(width), **extra})
        return image_id

    def add_annotation(
        self,
        image_id: int,
        category: str,
        box_xyxy: Sequence[float],
        mask: NDArray[np.bool_] | None = None,
        **attributes: Any,
    ) -> int:
        x1, y1, x2, y2 = (float(v) for v in box_xyxy)
        if not (x2 > x1 and y2 > y1):
            raise ValueError(f"degenerate box {box_xyxy}")
        ann: dict[str, Any] = {
            "id": len(self.annotations) + 1,
            "image_id": image_id,
            "category_id": self.category_id(category),
            "bbox": [x1, y1, x2 - x1, y2 - y1],
            "area": (x2 - x1) * (y2 - y1),
            "iscrowd": 0,
        }
        if mask is not None:
            rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
            ann["segmentation"] = {"size": [int(v) for v in rle["size"]],
                                   "counts": rle["counts"].decode("ascii")}
            ann["area"] = float(mask.sum())
        if attributes:
            ann["attributes"] = attributes
        self.annotations.append(ann)
        return int(ann["id"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "info": self.info,
            "images": self.images,
            "annotations": self.annotations,
            "categories": [{"id": i + 1, "name": n, "supercategory": "object"}
                           for i, n in enumerate(self.categories)],
        }

    def write(self, path: Path) -> None:
        write_json(path, self.to_dict())
