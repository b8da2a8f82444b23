"""Contact sheets of the gate's reads on the real sets, for people to look at
(``docs/images/gate_plates.png``, ``docs/images/gate_containers.png``).

Each tile: the image with our boxes (green when the read is right, red when wrong), and under
it what we read and the ground truth. Captions are drawn with PIL (plates carry Chinese and
Cyrillic characters OpenCV cannot draw): a CJK font (Debian ``fonts-wqy-zenhei``) for lines
with Chinese, DejaVu Sans (``fonts-dejavu-core``, has the Mongolian Ө and Ү) otherwise; both
are installed by ``scripts/ensure_system.sh``. Saved with a 256-colour palette (small files).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
LATIN_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Cyrillic with Ө, Ү
OK, BAD = (0, 170, 0), (220, 30, 30)


@dataclass(frozen=True)
class GateTile:
    """``image`` uint8 BGR; ``boxes`` pixel xyxy in it; ``read``/``truth`` caption lines."""

    image: npt.NDArray[np.uint8]
    boxes: Sequence[tuple[float, float, float, float]]
    read: str
    truth: str
    ok: bool


def contact_sheet(tiles: Sequence[GateTile], out: Path, cols: int = 6, tile_w: int = 260,
                  thumb_h: int = 170) -> Path:
    """Write the tiles as a PNG grid to ``out`` (thumbnails fit in ``tile_w`` x ``thumb_h``)."""
    if not tiles:
        raise ValueError("no tiles")
    fonts = {cjk: ImageFont.truetype(str(CJK_FONT if cjk else LATIN_FONT), 14)
             for cjk in (False, True)}

    def font(text: str) -> ImageFont.FreeTypeFont:
        return fonts[any("\u4e00" <= ch <= "\u9fff" for ch in text)]

    cap_h = 40
    rows = (len(tiles) + cols - 1) // cols
    sheet = Image.new("RGB", (cols * tile_w, rows * (thumb_h + cap_h)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for k, t in enumerate(tiles):
        x0, y0 = (k % cols) * tile_w, (k // cols) * (thumb_h + cap_h)
        h, w = t.image.shape[:2]
        scale = min((tile_w - 6) / w, (thumb_h - 6) / h)
        thumb = cv2.resize(t.image, (max(1, int(w * scale)), max(1, int(h * scale))),
                           interpolation=cv2.INTER_AREA)
        sheet.paste(Image.fromarray(cv2.cvtColor(thumb, cv2.COLOR_BGR2RGB)), (x0 + 3, y0 + 3))
        colour = OK if t.ok else BAD
        for bx0, by0, bx1, by1 in t.boxes:
            draw.rectangle((x0 + 3 + bx0 * scale, y0 + 3 + by0 * scale,
                            x0 + 3 + bx1 * scale, y0 + 3 + by1 * scale), outline=colour, width=2)
        read, truth = f"read  {t.read}"[:34], f"truth {t.truth}"[:34]
        draw.text((x0 + 4, y0 + thumb_h), read, fill=colour, font=font(read))
        draw.text((x0 + 4, y0 + thumb_h + 19), truth, fill=(40, 40, 40), font=font(truth))
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.quantize(256).save(out, optimize=True)
    return out
