"""Synthetic Mongolian licence plates for training the plate recogniser (``plate_rec_mn``).

A Mongolian plate reads 4 digits + 3 Cyrillic letters (``1537 УНЛ``). Two layouts:

- one row (about 4.7:1): digits, a small emblem (``MNG`` oval or a flag block), letters;
- two rows (about 1.4:1): digits on top, letters below with an ``MGL`` oval at the right.

Each sample is rendered flat with PIL, then degraded like a street photo (perspective, loose or
tight crop, blur, noise, low contrast, JPEG), and finally turned into the single line the
recogniser reads: two-row plates go through the same
:func:`vision.plates.rectify.two_rows_to_line` as at inference. Output images are uint8 grey.

Fonts: needs a TrueType font with Cyrillic (Ө and Ү included); DejaVu Sans (Debian
``fonts-dejavu-core``) is searched first. :func:`find_fonts` raises ``FileNotFoundError`` when
none is installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from vision.plates.grammar import DIGITS, MN_LETTERS
from vision.plates.rectify import plate_line

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"),
             Path("/usr/share/fonts/TTF"))
FONT_NAMES = ("DejaVuSans-Bold.ttf", "DejaVuSansCondensed-Bold.ttf", "DejaVuSans.ttf",
              "DejaVuSansCondensed.ttf", "DejaVuSansMono-Bold.ttf")
# Digits need no Cyrillic: any sans font adds shape variety (plate "1"s have a long flag).
DIGIT_FONT_DIRS = (*FONT_DIRS, Path("/usr/share/fonts/truetype/liberation"))
DIGIT_FONT_NAMES = (*FONT_NAMES, "LiberationSans-Bold.ttf", "LiberationSans-Regular.ttf",
                    "LiberationSansNarrow-Bold.ttf", "LiberationSansNarrow-Regular.ttf")
# Ulaanbaatar (У) registers most vehicles, so its plates are over-represented on the road.
FIRST_LETTER_UB_SHARE = 0.5
LINE_HEIGHT = 48
# Bump when the rendering changes, so cached sets (training --cache-dir) are not reused.
GENERATOR_VERSION = 2


@dataclass(frozen=True)
class MnSample:
    """One training sample: ``image`` uint8 grey ``[48, W]`` single line, ``text`` the
    7-character plate (no space), ``rows`` the plate layout it was rendered in."""

    image: npt.NDArray[np.uint8]
    text: str
    rows: int


def find_fonts(dirs: tuple[Path, ...] = FONT_DIRS) -> list[Path]:
    """Installed fonts from :data:`FONT_NAMES` that draw every Mongolian plate letter."""
    found = []
    for d in dirs:
        for name in FONT_NAMES:
            p = d / name
            if p.is_file() and _covers(p):
                found.append(p)
    if not found:
        raise FileNotFoundError("no font with Mongolian Cyrillic found (install Debian "
                                f"fonts-dejavu-core); searched {[str(d) for d in dirs]}")
    return found


def find_digit_fonts(dirs: tuple[Path, ...] = DIGIT_FONT_DIRS) -> list[Path]:
    """Installed fonts from :data:`DIGIT_FONT_NAMES` (for the digits only); at least the
    Cyrillic fonts of :func:`find_fonts`."""
    found = [d / n for d in dirs for n in DIGIT_FONT_NAMES if (d / n).is_file()]
    return found or find_fonts()


def _covers(path: Path) -> bool:
    font = ImageFont.truetype(str(path), 32)
    missing = font.getmask("\uffff").getbbox()
    return all(font.getmask(ch).getbbox() != missing for ch in "ӨҮЖЩ")


def random_plate_text(rng: np.random.Generator) -> str:
    digits = "".join(DIGITS[int(i)] for i in rng.integers(0, 10, 4))
    first = "У" if rng.random() < FIRST_LETTER_UB_SHARE else MN_LETTERS[
        int(rng.integers(len(MN_LETTERS)))]
    rest = "".join(MN_LETTERS[int(i)] for i in rng.integers(0, len(MN_LETTERS), 2))
    return digits + first + rest


def _text_image(text: str, font: ImageFont.FreeTypeFont, ink: int, paper: int,
                squeeze: float, stroke: int = 0) -> Image.Image:
    left, top, right, bottom = font.getbbox(text, stroke_width=stroke)
    img = Image.new("L", (int(right - left + 4), int(bottom - top + 4)), paper)
    ImageDraw.Draw(img).text((2 - left, 2 - top), text, font=font, fill=ink,
                             stroke_width=stroke, stroke_fill=ink)
    return img.resize((max(1, int(img.width * squeeze)), img.height))


def _emblem(rng: np.random.Generator, size: int, ink: int, paper: int,
            font_path: Path) -> Image.Image:
    img = Image.new("L", (int(size * 1.4), int(size)), paper)
    d = ImageDraw.Draw(img)
    if rng.random() < 0.6:  # MNG / MGL oval
        d.ellipse((1, 1, img.width - 2, img.height - 2), outline=ink, width=max(1, size // 12))
        f = ImageFont.truetype(str(font_path), max(6, size // 3))
        label = "MNG" if rng.random() < 0.5 else "MGL"
        lb = f.getbbox(label)
        d.text(((img.width - lb[2]) // 2, (img.height - lb[3]) // 2), label, font=f, fill=ink)
    else:  # flag-like block: three vertical bands
        w = img.width // 3
        for k, shade in enumerate((90, 150, 90)):
            d.rectangle((k * w, size // 6, (k + 1) * w - 1, size - size // 6), fill=shade)
    return img


def render_plate(text: str, rows: int, rng: np.random.Generator, font_path: Path,
                 digit_font_path: Path | None = None, stroke: int = 0
                 ) -> npt.NDArray[np.uint8]:
    """Flat plate (uint8 grey), white background, dark border, ``text`` in ``rows`` rows;
    digits in ``digit_font_path`` (default ``font_path``), strokes thickened by ``stroke``."""
    digit_font = digit_font_path or font_path
    if rows not in (1, 2):
        raise ValueError(f"rows must be 1 or 2, got {rows}")
    if len(text) != 7:
        raise ValueError(f"a Mongolian plate has 7 characters, got {text!r}")
    paper = int(rng.integers(185, 256))
    ink = int(rng.integers(0, 70))
    squeeze = float(rng.uniform(0.7, 1.0))
    if rows == 1:
        h = 110
        size = int(h * rng.uniform(0.62, 0.78))
        font = ImageFont.truetype(str(font_path), size)
        digits = _text_image(text[:4], ImageFont.truetype(str(digit_font), size), ink, paper,
                             squeeze, stroke)
        letters = _text_image(text[4:], font, ink, paper, squeeze, stroke)
        emblem = _emblem(rng, int(h * 0.45), ink, paper, font_path)
        gap = int(h * rng.uniform(0.08, 0.2))
        w = digits.width + letters.width + emblem.width + 2 * gap + int(h * 0.4)
        plate = Image.new("L", (w, h), paper)
        x = int(h * 0.2)
        plate.paste(digits, (x, (h - digits.height) // 2))
        x += digits.width + gap
        plate.paste(emblem, (x, (h - emblem.height) // 2))
        x += emblem.width + gap
        plate.paste(letters, (x, (h - letters.height) // 2))
    else:
        # real two-row plates: the letters are nearly as tall as the digits and fill the row
        w, h = 290, 210
        big = ImageFont.truetype(str(digit_font), int(h * rng.uniform(0.40, 0.48)))
        small = ImageFont.truetype(str(font_path), int(h * rng.uniform(0.30, 0.38)))
        digits = _text_image(text[:4], big, ink, paper, squeeze, stroke)
        if rng.random() < 0.5:  # often printed as "15 37"
            digits = _text_image(text[:2] + " " + text[2:4], big, ink, paper, squeeze, stroke)
        letters = _text_image(text[4:], small, ink, paper, squeeze, stroke)
        emblem = _emblem(rng, int(h * 0.16), ink, paper, font_path)
        w = max(w, digits.width + 30, letters.width + emblem.width + 40)
        plate = Image.new("L", (w, h), paper)
        plate.paste(digits, ((w - digits.width) // 2, int(h * 0.06)))
        y2 = int(h * 0.56)
        plate.paste(letters, ((w - letters.width - emblem.width) // 2, y2))
        plate.paste(emblem, (w - emblem.width - 12, y2 + (letters.height - emblem.height) // 2))
    d = ImageDraw.Draw(plate)
    bw = max(2, plate.height // 25)
    d.rectangle((bw // 2, bw // 2, plate.width - 1 - bw // 2, plate.height - 1 - bw // 2),
                outline=ink, width=bw)
    return np.asarray(plate, dtype=np.uint8)


def degrade(plate: npt.NDArray[np.uint8], rng: np.random.Generator
            ) -> npt.NDArray[np.uint8]:
    """Street-photo look: the plate pasted in a textured surround, warped by a random
    perspective, cropped loosely or tightly around it, blurred, noised, contrast-reduced and
    JPEG-compressed. Returns uint8 grey, roughly the plate's own aspect ratio."""
    h, w = plate.shape
    pad = int(max(h, w) * 0.3)
    bg = rng.integers(0, 256)
    canvas = np.clip(rng.normal(bg, 35, (h + 2 * pad, w + 2 * pad)), 0, 255).astype(np.uint8)
    canvas = np.asarray(cv2.GaussianBlur(canvas, (0, 0), 3), dtype=np.uint8)
    canvas[pad:pad + h, pad:pad + w] = plate
    src = np.array([[pad, pad], [pad + w, pad], [pad + w, pad + h], [pad, pad + h]], np.float32)
    jitter = rng.uniform(-0.06, 0.06, (4, 2)) * np.array([w, h])
    dst = (src + jitter).astype(np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(canvas, m, (canvas.shape[1], canvas.shape[0]),
                                 borderMode=cv2.BORDER_REPLICATE)
    # crop around the (warped) plate with a random margin: localisation is never exact
    x0, y0 = dst.min(axis=0)
    x1, y1 = dst.max(axis=0)
    mx = rng.uniform(-0.03, 0.1) * w
    my = rng.uniform(-0.05, 0.15) * h
    ys, xs = slice(max(0, int(y0 - my)), int(y1 + my)), slice(max(0, int(x0 - mx)), int(x1 + mx))
    crop = warped[ys, xs]
    scale = rng.uniform(70, 260) / max(crop.shape)  # real plate crops: 70-260 px across
    size = (max(8, int(crop.shape[1] * scale)), max(8, int(crop.shape[0] * scale)))
    small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    if rng.random() < 0.6:
        small = cv2.GaussianBlur(small, (0, 0), float(rng.uniform(0.3, 1.1)))
    lo, hi = sorted(rng.uniform(0, 255, 2))
    if hi - lo < 90:
        mid = (lo + hi) / 2
        lo, hi = max(0.0, mid - 45), min(255.0, mid + 45)
    img = lo + small.astype(np.float32) / 255.0 * (hi - lo)
    img += rng.normal(0, rng.uniform(0, 10), img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)
    ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 95))])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    out = cv2.imdecode(enc, cv2.IMREAD_GRAYSCALE)
    return np.asarray(out, dtype=np.uint8)


def to_line(plate: npt.NDArray[np.uint8], rows: int) -> npt.NDArray[np.uint8]:
    """The recogniser's input line for a plate crop (two-row plates re-laid as one line),
    exactly as at inference (:func:`vision.plates.rectify.plate_line`)."""
    return plate_line(plate, rows, LINE_HEIGHT)


def generate(seed: int, fonts: list[Path] | None = None,
             two_row_share: float = 0.5) -> Iterator[MnSample]:
    """Endless reproducible stream of samples for ``seed``."""
    if not 0.0 <= two_row_share <= 1.0:
        raise ValueError("two_row_share must be in [0, 1]")
    rng = np.random.default_rng(seed)
    font_paths = fonts or find_fonts()
    digit_paths = find_digit_fonts() if fonts is None else font_paths
    while True:
        text = random_plate_text(rng)
        rows = 2 if rng.random() < two_row_share else 1
        font = font_paths[int(rng.integers(len(font_paths)))]
        digit_font = digit_paths[int(rng.integers(len(digit_paths)))]
        stroke = int(rng.integers(0, 3))
        plate = degrade(render_plate(text, rows, rng, font, digit_font, stroke), rng)
        yield MnSample(image=to_line(plate, rows), text=text, rows=rows)
