"""Synthetic Mongolian licence plates for training the plate recogniser (``plate_rec_mn``).

A Mongolian plate reads 4 digits + 3 Cyrillic letters (``1537 УНЛ``). Two layouts, as on the
real plates:

- one row (about 4-5:1): digits, a wide gap (half the time holding an ``MNG`` oval or a flag),
  letters; sometimes the state emblem at the left;
- two rows (about 1.3:1): digits (often ``15 37``) on top, smaller letters below, sometimes an
  ``MGL`` oval at their right.

Each sample is rendered flat with PIL (glyphs at a fixed pitch, scaled to a cap height; thin
border, optional screws and dark plate holder), sometimes cut to its text area (as a text
detector's box would), then degraded like a street photo (small rotation, perspective, loose or
tight axis-aligned crop, blur, noise, low contrast, uneven light, JPEG), and finally turned into
the single line the recogniser reads: two-row plates go through the same
:func:`vision.plates.rectify.two_rows_to_line` as at inference. Output images are uint8 grey.

Fonts: needs a TrueType font with Cyrillic (Ө and Ү included). Narrow DIN-like faces come
closest to the plate font: Roboto Condensed (Debian ``fonts-roboto-unhinted``) and PT Sans
Narrow (``fonts-paratype``) are used when installed, DejaVu Sans (``fonts-dejavu-core``) always.
:func:`find_fonts` raises ``FileNotFoundError`` when none is installed.
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
             Path("/usr/share/fonts/TTF"), Path("/usr/share/fonts/truetype/roboto/unhinted"),
             Path("/usr/share/fonts/truetype/paratype"))
# Real plates use a narrow DIN-like face of even stroke: condensed fonts (Roboto Condensed from
# Debian fonts-roboto-unhinted, PT Sans Narrow from fonts-paratype) come closest; the DejaVu
# faces add variety. Fonts that are not installed are skipped.
FONT_NAMES = ("RobotoCondensed-Regular.ttf", "RobotoCondensed-Medium.ttf",
              "RobotoCondensed-Bold.ttf", "PTN57F.ttf", "PTN77F.ttf",
              "DejaVuSansCondensed.ttf", "DejaVuSansCondensed-Bold.ttf", "DejaVuSans-Bold.ttf",
              "DejaVuSans.ttf", "DejaVuSansMono-Bold.ttf")
# Digits need no Cyrillic: any sans font adds shape variety (plate "1"s have a long flag).
DIGIT_FONT_DIRS = (*FONT_DIRS, Path("/usr/share/fonts/truetype/liberation"))
DIGIT_FONT_NAMES = (*FONT_NAMES, "LiberationSansNarrow-Bold.ttf",
                    "LiberationSansNarrow-Regular.ttf")
# Ulaanbaatar (У) registers most vehicles, so its plates are over-represented on the road.
FIRST_LETTER_UB_SHARE = 0.5
LINE_HEIGHT = 48
# Bump when the rendering changes, so cached sets (training --cache-dir) are not reused.
GENERATOR_VERSION = 8
# Share of plates drawn with the triangular Л and Д of the DIN-like plate face (Λ, and a
# triangle on a footed base bar) instead of the Russian forms the installed fonts draw.
TRIANGULAR_FORMS_SHARE = 0.5
# Share of plates whose 1 is the plate face's DIN 1 (a long flag reaching down about 40 % of
# the height) instead of the font's short-flagged one.
DIN_ONE_SHARE = 0.5
# Share of samples cut to their text area first (detector boxes are text-tight, annotators'
# and colour-region boxes include the border).
TEXT_CROP_SHARE = 0.3
# Share of plates with mounting screws drawn (v8: where real plates have them, see _screws;
# v7 and earlier put two small ones at mid-height only, and the real 0.jpg's corner screw
# beside a DIN 1 was read as the bar of a 7).
SCREW_SHARE = 0.5


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
    return _has_glyphs(ImageFont.truetype(str(path), 32), "ӨҮЖЩ")


def _has_glyphs(font: ImageFont.FreeTypeFont, chars: str) -> bool:
    """Every one of ``chars`` has its own glyph in ``font`` (not the missing-glyph box)."""
    missing = font.getmask("\uffff").getbbox()
    return all(font.getmask(ch).getbbox() != missing for ch in chars)


def random_plate_text(rng: np.random.Generator) -> str:
    digits = "".join(DIGITS[int(i)] for i in rng.integers(0, 10, 4))
    first = "У" if rng.random() < FIRST_LETTER_UB_SHARE else MN_LETTERS[
        int(rng.integers(len(MN_LETTERS)))]
    rest = "".join(MN_LETTERS[int(i)] for i in rng.integers(0, len(MN_LETTERS), 2))
    return digits + first + rest


def _text_image(text: str, font: ImageFont.FreeTypeFont, ink: int, paper: int,
                squeeze: float, stroke: int = 0, cap_height: int | None = None) -> Image.Image:
    """``text`` drawn tight (2 px border); scaled so the glyphs are ``cap_height`` px high
    (default: the font's own size), then narrowed by ``squeeze``."""
    left, top, right, bottom = font.getbbox(text, stroke_width=stroke)
    img = Image.new("L", (int(right - left + 4), int(bottom - top + 4)), paper)
    ImageDraw.Draw(img).text((2 - left, 2 - top), text, font=font, fill=ink,
                             stroke_width=stroke, stroke_fill=ink)
    scale = cap_height / img.height if cap_height else 1.0
    return img.resize((max(1, int(img.width * squeeze * scale)), max(1, int(img.height * scale))),
                      Image.Resampling.BILINEAR)


def _triangular_glyph(ch: str, font: ImageFont.FreeTypeFont, ink: int, paper: int,
                      squeeze: float, stroke: int, cap_height: int) -> Image.Image:
    """The plate face's Л (drawn as Greek Λ) or Д (Greek Δ on a base bar that sticks out
    both sides and ends in short feet below the line), ``cap_height`` px high above the
    baseline; the feet hang below it like those of a Russian Д."""
    if ch == "Л":
        return _text_image("\u039b", font, ink, paper, squeeze, stroke, cap_height)
    tri = _text_image("\u039b", font, ink, paper, squeeze, stroke, cap_height)
    bar = max(2, int(round(cap_height * 0.11)))
    foot = max(2, int(round(cap_height * 0.16)))
    over = max(1, int(round(tri.width * 0.08)))
    img = Image.new("L", (tri.width + 2 * over, cap_height + foot), paper)
    img.paste(tri, (over, 0))
    d = ImageDraw.Draw(img)
    d.rectangle((0, cap_height - bar, img.width - 1, cap_height - 1), fill=ink)
    d.rectangle((0, cap_height - 1, bar - 1, img.height - 1), fill=ink)
    d.rectangle((img.width - bar, cap_height - 1, img.width - 1, img.height - 1), fill=ink)
    return img


def _din_one(ink: int, paper: int, squeeze: float, stroke: int, cap_height: int
             ) -> Image.Image:
    """The plate face's 1: an upright stem and a long flag from its top reaching down-left
    to about 40 % of the height, ``cap_height`` px high."""
    t = max(2, int(round(cap_height * 0.12)) + 2 * stroke)
    w = max(t + 2, int(round(cap_height * 0.42 * squeeze)))
    img = Image.new("L", (w, cap_height), paper)
    d = ImageDraw.Draw(img)
    d.rectangle((w - t, 0, w - 1, cap_height - 1), fill=ink)
    d.line((w - t / 2, t / 2, t / 2, cap_height * 0.4), fill=ink, width=t)
    return img


def _spaced(chars: str, font: ImageFont.FreeTypeFont, ink: int, paper: int, squeeze: float,
            stroke: int, cap_height: int, gap: float, triangular: bool = False,
            din_one: bool = False) -> Image.Image:
    """Characters drawn one by one ``gap`` x cap height apart (plates use fixed pitch, wider
    than a font's kerning), on one row of height ``cap_height`` (plus any descender).
    ``triangular``: Л and Д in the plate face's triangular forms (when the font has Λ);
    ``din_one``: 1 as the plate face's long-flagged DIN 1."""
    triangular = triangular and _has_glyphs(font, "\u039b")
    glyphs = [None if c == " " else
              _triangular_glyph(c, font, ink, paper, squeeze, stroke, cap_height)
              if triangular and c in "ЛД" else
              _din_one(ink, paper, squeeze, stroke, cap_height) if din_one and c == "1" else
              _text_image(c, font, ink, paper, squeeze, stroke, cap_height) for c in chars]
    space = int(cap_height * gap)
    blank = int(cap_height * 0.28)
    width = sum(g.width if g is not None else blank for g in glyphs) + space * (len(chars) - 1)
    # every glyph is cap_height high except a footed Д, whose feet hang below the others
    height = max(g.height for g in glyphs if g is not None)
    row = Image.new("L", (max(1, width), height), paper)
    x = 0
    for g in glyphs:
        if g is None:
            x += blank + space
            continue
        row.paste(g, (x, 0 if g.height > cap_height else cap_height - g.height))
        x += g.width + space
    return row


def _emblem(rng: np.random.Generator, size: int, ink: int, paper: int,
            font_path: Path) -> Image.Image:
    """``MNG``/``MGL`` oval (70 %) or a small three-band flag, ``size`` px high."""
    img = Image.new("L", (int(size * 1.4), int(size)), paper)
    d = ImageDraw.Draw(img)
    if rng.random() < 0.7:  # MNG / MGL oval
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


def _soyombo(rng: np.random.Generator, height: int, paper: int) -> Image.Image:
    """The state emblem some one-row plates carry at the left: a narrow column of flame, sun,
    moon, triangles and bars in a red band (mid grey in a grey photo)."""
    w = max(4, int(height * rng.uniform(0.22, 0.3)))
    img = Image.new("L", (w, height), paper)
    d = ImageDraw.Draw(img)
    shade = int(rng.integers(40, 140))
    y = 0.0
    for part in ("flame", "sun", "moon", "tri", "bar", "bar", "tri"):
        ph = height * (0.16 if part in ("flame", "sun", "moon") else 0.1)
        if part in ("sun", "moon"):
            d.ellipse((w * 0.2, y, w * 0.8, y + ph), fill=shade)
        elif part in ("flame", "tri"):
            d.polygon([(w * 0.5, y), (w * 0.15, y + ph), (w * 0.85, y + ph)], fill=shade)
        else:
            d.rectangle((w * 0.1, y + ph * 0.2, w * 0.9, y + ph * 0.8), fill=shade)
        y += ph + height * 0.02
    return img


def _screws(w: int, h: int, rows: int, rng: np.random.Generator
            ) -> list[tuple[int, int, int]]:
    """Mounting screws ``(x, y, radius)`` in pixels of a ``w x h`` plate where real plates
    carry them: two-row plates in the four corners (or the top two), right beside the first
    and last digits; one-row plates at mid-height near both ends or in the corners."""
    r = max(2, int(h * rng.uniform(1 / 40, 1 / 16)))
    ix, iy = int(h * rng.uniform(0.06, 0.12)), int(h * rng.uniform(0.06, 0.14))
    if rows == 2 or rng.random() < 0.3:
        spots = [(ix, iy), (w - ix, iy)]
        if rng.random() < 0.6:
            spots += [(ix, h - iy), (w - ix, h - iy)]
    else:
        spots = [(ix, h // 2), (w - ix, h // 2)]
    return [(x, y, r) for x, y in spots]


def render_plate(text: str, rows: int, rng: np.random.Generator, font_path: Path,
                 digit_font_path: Path | None = None, stroke: int = 0
                 ) -> npt.NDArray[np.uint8]:
    """Flat plate (uint8 grey), light background, thin dark border, ``text`` in ``rows`` rows;
    digits in ``digit_font_path`` (default ``font_path``), strokes thickened by ``stroke``.

    Layouts follow the real plates: one row (about 4-5:1) ``4919 [emblem] УБЦ`` with a wide
    gap, an optional ``MNG`` oval or flag in it and an optional state emblem at the left; two
    rows (about 1.3:1) ``15 37`` over smaller ``УНЛ`` with an optional ``MGL`` oval at the
    right. Glyphs are drawn at a fixed pitch and scaled to a cap height (fonts differ); half
    the plates use the triangular Л and Д of the real plate face, half its long-flagged 1."""
    digit_font = digit_font_path or font_path
    if rows not in (1, 2):
        raise ValueError(f"rows must be 1 or 2, got {rows}")
    if len(text) != 7:
        raise ValueError(f"a Mongolian plate has 7 characters, got {text!r}")
    paper = int(rng.integers(170, 256))
    ink = int(rng.integers(0, 70))
    squeeze = float(rng.uniform(0.75, 1.1))
    pitch = float(rng.uniform(0.03, 0.16))
    tri = bool(rng.random() < TRIANGULAR_FORMS_SHARE)
    din = bool(rng.random() < DIN_ONE_SHARE)
    dfont = ImageFont.truetype(str(digit_font), 96)
    lfont = ImageFont.truetype(str(font_path), 96)
    if rows == 1:
        h = 110
        cap = int(h * rng.uniform(0.5, 0.68))
        digits = _spaced(text[:4], dfont, ink, paper, squeeze, stroke, cap, pitch,
                         din_one=din)
        letters = _spaced(text[4:], lfont, ink, paper, squeeze, stroke, cap, pitch, tri)
        r = rng.random()
        middle = _emblem(rng, int(h * rng.uniform(0.3, 0.45)), ink, paper, font_path) if (
            r < 0.5) else None
        gap = int(h * (rng.uniform(0.05, 0.2) if middle is not None else rng.uniform(0.3, 0.8)))
        left = _soyombo(rng, int(h * rng.uniform(0.55, 0.75)), paper) if (
            rng.random() < 0.25) else None
        margin = int(h * rng.uniform(0.12, 0.3))
        parts: list[tuple[Image.Image, int]] = []
        if left is not None:
            parts.append((left, int(h * 0.08)))
        parts += [(digits, gap)] + ([(middle, gap)] if middle is not None else []) + [
            (letters, 0)]
        w = 2 * margin + sum(p.width + g for p, g in parts)
        plate = Image.new("L", (w, h), paper)
        x = margin
        base = (h + cap) // 2 + int(h * rng.uniform(-0.05, 0.05))
        for p, g in parts:
            y = base - p.height if p in (digits, letters) else (h - p.height) // 2
            plate.paste(p, (x, max(0, y)))
            x += p.width + g
    else:
        h = 210
        cap_top = int(h * rng.uniform(0.3, 0.4))
        cap_bottom = int(cap_top * rng.uniform(0.7, 0.9))
        top_text = text[:2] + " " + text[2:4] if rng.random() < 0.85 else text[:4]
        digits = _spaced(top_text, dfont, ink, paper, squeeze, stroke, cap_top, pitch,
                         din_one=din)
        letters = _spaced(text[4:], lfont, ink, paper, squeeze, stroke, cap_bottom, pitch, tri)
        emblem = _emblem(rng, int(cap_bottom * rng.uniform(0.5, 0.8)), ink, paper,
                         font_path) if rng.random() < 0.55 else None
        ew = emblem.width + 8 if emblem is not None else 0
        w = max(int(h * rng.uniform(1.2, 1.45)), digits.width + 30, letters.width + 2 * ew + 30)
        plate = Image.new("L", (w, h), paper)
        y1 = int(h * rng.uniform(0.1, 0.16))
        plate.paste(digits, ((w - digits.width) // 2, y1))
        y2 = y1 + digits.height + int(h * rng.uniform(0.06, 0.12))
        y2 = min(y2, h - letters.height - int(h * 0.05))
        plate.paste(letters, ((w - letters.width) // 2, y2))
        if emblem is not None:
            ex = min(w - emblem.width - 8, (w + letters.width) // 2 + int(h * 0.04))
            plate.paste(emblem, (ex, y2 + (letters.height - emblem.height) // 2))
    d = ImageDraw.Draw(plate)
    bw = max(2, int(plate.height * rng.uniform(0.015, 0.04)))
    inset = int(plate.height * rng.uniform(0.0, 0.04))
    d.rectangle((inset + bw // 2, inset + bw // 2, plate.width - 1 - inset - bw // 2,
                 plate.height - 1 - inset - bw // 2), outline=ink, width=bw)
    if rng.random() < SCREW_SHARE:
        for sx, sy, r in _screws(plate.width, plate.height, rows, rng):
            d.ellipse((sx - r, sy - r, sx + r, sy + r), fill=int(rng.integers(ink, ink + 90)))
    out = np.asarray(plate, dtype=np.uint8)
    if rng.random() < 0.4:  # dark plate holder around the plate
        fw = int(plate.height * rng.uniform(0.04, 0.12))
        out = np.pad(out, fw, constant_values=int(rng.integers(0, 60)))
    return out


def degrade(plate: npt.NDArray[np.uint8], rng: np.random.Generator
            ) -> npt.NDArray[np.uint8]:
    """Street-photo look: the plate pasted in a textured surround, turned by a small in-plane
    angle and warped by a random perspective, cut out by an axis-aligned box (as a detector or
    an annotator would) loosely or tightly, blurred, noised, contrast-reduced, unevenly lit and
    JPEG-compressed. Returns uint8 grey, roughly the plate's own aspect ratio."""
    h, w = plate.shape
    pad = int(max(h, w) * 0.3)
    bg = rng.integers(0, 256)
    canvas = np.clip(rng.normal(bg, 35, (h + 2 * pad, w + 2 * pad)), 0, 255).astype(np.uint8)
    canvas = np.asarray(cv2.GaussianBlur(canvas, (0, 0), 3), dtype=np.uint8)
    canvas[pad:pad + h, pad:pad + w] = plate
    src = np.array([[pad, pad], [pad + w, pad], [pad + w, pad + h], [pad, pad + h]], np.float32)
    jitter = rng.uniform(-0.06, 0.06, (4, 2)) * np.array([w, h])
    max_angle = 8.0 if w > 2 * h else 4.0  # two-row plates: the row split needs them upright
    angle = np.radians(rng.uniform(-max_angle, max_angle) if rng.random() < 0.6 else 0.0)
    centre = src.mean(axis=0)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = ((src - centre) @ rot.T + centre + jitter).astype(np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(canvas, m, (canvas.shape[1], canvas.shape[0]),
                                 borderMode=cv2.BORDER_REPLICATE)
    # crop around the (warped) plate with a random margin: localisation is never exact
    x0, y0 = dst.min(axis=0)
    x1, y1 = dst.max(axis=0)
    mx = rng.uniform(-0.03, 0.1) * w
    my = rng.uniform(-0.05, 0.15) * h
    ys = slice(max(0, int(y0 - my)), int(y1 + my))
    xs = slice(max(0, int(x0 - mx)), int(x1 + mx))
    crop = warped[ys, xs]
    scale = rng.uniform(60, 260) / max(crop.shape)  # real plate crops: 70-260 px across
    size = (max(8, int(crop.shape[1] * scale)), max(8, int(crop.shape[0] * scale)))
    small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    if rng.random() < 0.6:
        small = cv2.GaussianBlur(small, (0, 0), float(rng.uniform(0.3, 1.2)))
    lo, hi = sorted(rng.uniform(0, 255, 2))
    if hi - lo < 90:
        mid = (lo + hi) / 2
        lo, hi = max(0.0, mid - 45), min(255.0, mid + 45)
    img = lo + small.astype(np.float32) / 255.0 * (hi - lo)
    if rng.random() < 0.4:  # uneven light: a linear ramp across the plate
        ramp = np.linspace(-1.0, 1.0, img.shape[1], dtype=np.float32)[None, :]
        img += ramp * float(rng.uniform(-40, 40))
    img += rng.normal(0, rng.uniform(0, 10), img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)
    ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 95))])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    out = cv2.imdecode(enc, cv2.IMREAD_GRAYSCALE)
    return np.asarray(out, dtype=np.uint8)


def text_region(plate: npt.NDArray[np.uint8], pad: float = 0.05) -> npt.NDArray[np.uint8]:
    """The part of a flat plate (uint8 grey, dark ink on light paper) that holds ink inside
    the border, grown by ``pad`` x plate height on each side: what a text detector's box (or
    the union of its row boxes) cuts out, without the plate border and holder."""
    h, w = plate.shape
    inset = int(round(h * 0.1))
    inner = plate[inset:h - inset, inset:w - inset]
    if inner.size == 0:
        return plate
    ink = inner < (int(np.median(inner)) + int(inner.min())) // 2
    ys, xs = np.nonzero(ink)
    if ys.size == 0:
        return plate
    g = int(round(h * pad))
    y0, y1 = max(0, ys.min() + inset - g), min(h, ys.max() + inset + 1 + g)
    x0, x1 = max(0, xs.min() + inset - g), min(w, xs.max() + inset + 1 + g)
    return np.ascontiguousarray(plate[y0:y1, x0:x1])


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
        stroke = int(rng.choice(3, p=(0.5, 0.35, 0.15)))
        plate = render_plate(text, rows, rng, font, digit_font, stroke)
        if rng.random() < TEXT_CROP_SHARE:
            plate = text_region(plate, pad=float(rng.uniform(0.02, 0.08)))
        plate = degrade(plate, rng)
        yield MnSample(image=to_line(plate, rows), text=text, rows=rows)
