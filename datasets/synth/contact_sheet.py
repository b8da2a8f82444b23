"""Contact sheets: a grid of thumbnails with optional boxes and captions (RGB uint8)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

U8 = NDArray[np.uint8]

_COLOURS = ((230, 30, 30), (200, 0, 200), (255, 140, 0), (0, 150, 255), (0, 170, 0),
            (120, 60, 200), (0, 0, 0))


@dataclass
class Tile:
    """One thumbnail: RGB or grey image, pixel xyxy boxes with labels, a caption."""

    image: U8
    boxes: Sequence[tuple[float, float, float, float]] = ()
    labels: Sequence[str] = ()
    caption: str = ""
    classes: Sequence[str] = field(default_factory=tuple)


def contact_sheet(tiles: Sequence[Tile], cols: int = 4, tile_width: int = 256,
                  pad: int = 4) -> U8:
    """Lay tiles out in a grid; each is scaled to ``tile_width`` (aspect kept)."""
    if not tiles:
        raise ValueError("no tiles")
    thumbs = []
    for t in tiles:
        img = t.image if t.image.ndim == 3 else cv2.cvtColor(t.image, cv2.COLOR_GRAY2RGB)
        scale = tile_width / img.shape[1]
        h = max(1, int(round(img.shape[0] * scale)))
        th = np.ascontiguousarray(cv2.resize(img, (tile_width, h), interpolation=cv2.INTER_AREA))
        for box, label in zip(t.boxes, t.labels, strict=False):
            k = list(t.classes).index(label) if label in t.classes else len(_COLOURS) - 1
            colour = _COLOURS[k % len(_COLOURS)]
            x1, y1, x2, y2 = (int(round(v * scale)) for v in box)
            cv2.rectangle(th, (x1, y1), (max(x1, x2 - 1), max(y1, y2 - 1)), colour, 1)
            cv2.putText(th, label, (x1 + 1, max(8, y1 + 9)), cv2.FONT_HERSHEY_PLAIN, 0.7,
                        colour, 1, cv2.LINE_AA)
        if t.caption:
            cv2.putText(th, t.caption, (3, h - 4), cv2.FONT_HERSHEY_PLAIN, 0.8, (0, 0, 0), 1,
                        cv2.LINE_AA)
        thumbs.append(th)
    rows = [thumbs[i:i + cols] for i in range(0, len(thumbs), cols)]
    row_h = [max(t.shape[0] for t in r) for r in rows]
    sheet = np.full((sum(row_h) + pad * (len(rows) + 1), cols * tile_width + pad * (cols + 1), 3),
                    255, dtype=np.uint8)
    y = pad
    for r, rh in zip(rows, row_h, strict=True):
        x = pad
        for thumb in r:
            sheet[y:y + thumb.shape[0], x:x + tile_width] = thumb
            x += tile_width + pad
        y += rh + pad
    return sheet
