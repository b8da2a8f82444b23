"""Generated lane-camera pictures for the smart gate: container doors with a painted ISO 6346
code and scenes with a Mongolian plate.

Used by ``kouan demo`` (fixed, readable pictures) and as calibration input for the INT8 text
detector (:mod:`training.ocr_det_int8`), where ``random_container_door`` varies paint, print
size, position and lighting. All images are uint8 BGR ``HxWx3``; coordinates are pixels.
"""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from datasets.plates_mn import find_digit_fonts, find_fonts, random_plate_text, render_plate
from vision.containers.iso6346 import check_digit

Image = npt.NDArray[np.uint8]
DOOR_HW = (540, 960)
SIZE_TYPES = ("22G1", "42G1", "45G1", "45R1", "22U1", "L5G1")


def container_door(code: str, size_type: str = "22G1", seed: int = 0) -> Image:
    """A 960x540 picture of a dark-blue ribbed container door with ``code`` (11 characters)
    painted in the top right (``OOOU SSSSSS D``, the check digit boxed) and ``size_type``
    below it."""
    return _door(code, size_type, np.random.default_rng(seed), paint=(110, 80, 40),
                 origin=(430, 130), scale=1.9, light=1.0)


def random_code(rng: np.random.Generator) -> str:
    """A valid ISO 6346 code: random owner, category ``U``, serial, correct check digit."""
    owner = "".join(rng.choice(list(string.ascii_uppercase), 3)) + "U"
    serial = "".join(rng.choice(list(string.digits), 6))
    return owner + serial + str(check_digit(owner + serial))


def random_container_door(rng: np.random.Generator) -> Image:
    """A door like :func:`container_door` with random paint colour, code, print size,
    position and a brightness gradient (sun on one side)."""
    paint = tuple(int(v) for v in rng.integers(20, 200, 3))
    scale = float(rng.uniform(0.9, 2.2))
    origin = (int(rng.integers(20, 420)), int(rng.integers(60, 300)))
    return _door(random_code(rng), str(rng.choice(SIZE_TYPES)), rng,
                 paint=(paint[0], paint[1], paint[2]), origin=origin, scale=scale,
                 light=float(rng.uniform(0.5, 1.3)))


def _door(code: str, size_type: str, rng: np.random.Generator, paint: tuple[int, int, int],
          origin: tuple[int, int], scale: float, light: float) -> Image:
    h, w = DOOR_HW
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = paint
    rib = tuple(int(v * 0.8) for v in paint)
    for x in range(0, w, 24):  # corrugation
        cv2.line(img, (x, 0), (x, h - 1), rib, 6)
    ink = (235, 235, 235)
    font = cv2.FONT_HERSHEY_SIMPLEX
    x, y = origin
    thick = max(2, round(2.6 * scale))
    (tw, th), _ = cv2.getTextSize(f"{code[:4]} {code[4:10]}", font, scale, thick)
    cv2.putText(img, f"{code[:4]} {code[4:10]}", (x, y), font, scale, ink, thick, cv2.LINE_AA)
    dx = x + tw + int(12 * scale)
    cv2.putText(img, code[10], (dx, y), font, scale, ink, thick, cv2.LINE_AA)
    cv2.rectangle(img, (dx - int(5 * scale), y - th - int(6 * scale)),
                  (dx + int(32 * scale), y + int(8 * scale)), ink, max(1, thick // 2))
    cv2.putText(img, size_type, (x + tw // 3, y + int(37 * scale)), font, scale * 0.85, ink,
                max(2, thick - 1), cv2.LINE_AA)
    cv2.putText(img, "MAX GROSS 30480 KG", (x, y + int(90 * scale)), font, scale * 0.47, ink,
                max(1, thick // 2), cv2.LINE_AA)
    gain = np.linspace(light, 1.0, w, dtype=np.float32)[None, :, None]
    noisy = img.astype(np.float32) * gain + rng.normal(0, 6, img.shape)
    return np.asarray(np.clip(noisy, 0, 255), np.uint8)


def mongolian_plate_scene(text: str, seed: int = 0, rows: int = 1) -> Image:
    """A 640x480 grey scene with a flat Mongolian plate reading ``text`` (``rows`` 1 or 2)
    pasted 240 px wide at (200, 300)."""
    rng = np.random.default_rng(seed)
    plate = render_plate(text, rows, rng, find_fonts()[0])
    h, w = plate.shape
    plate = np.asarray(cv2.resize(plate, (240, int(h * 240 / w)), interpolation=cv2.INTER_AREA),
                       np.uint8)
    scene = np.full((480, 640), 70, np.uint8)
    y, x = 300 - max(0, 300 + plate.shape[0] - 480), 200
    scene[y:y + plate.shape[0], x:x + plate.shape[1]] = plate
    return np.asarray(cv2.cvtColor(scene, cv2.COLOR_GRAY2BGR), np.uint8)


def random_mongolian_scene(rng: np.random.Generator) -> Image:
    """:func:`mongolian_plate_scene` with a random plate text, row count and seed."""
    return mongolian_plate_scene(random_plate_text(rng), int(rng.integers(1 << 30)),
                                 rows=int(rng.integers(1, 3)))


STREET_HW = (540, 960)


@cache
def _street_fonts() -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """(letter fonts, digit fonts), looked up once: the search opens every font file."""
    return tuple(find_fonts()), tuple(find_digit_fonts())


def mongolian_street_scene(rng: np.random.Generator
                           ) -> tuple[Image, npt.NDArray[np.float32], str, int]:
    """A 960x540 lane-camera picture with one Mongolian plate seen at an angle, for measuring
    the whole find-and-read path on generated data (the real photos stay a test set).

    The plate (:func:`datasets.plates_mn.render_plate`, random text, fonts and layout) is
    120-300 px wide (two-row: 90-160 px), turned in-plane by up to 8 degrees (two-row: 4),
    sheared as a camera to the side sees it (vertical edges stay vertical, the rows slope up
    to 12 degrees) and perspective-jittered, on a cluttered vehicle-like background with
    blur, noise and JPEG. Returns ``(BGR image, plate corners TL TR BR BL [4, 2] float32
    pixels, text, rows)``."""
    text = random_plate_text(rng)
    rows = int(rng.integers(1, 3))
    fonts, digit_fonts = _street_fonts()
    plate = render_plate(text, rows, rng, fonts[int(rng.integers(len(fonts)))],
                         digit_fonts[int(rng.integers(len(digit_fonts)))])
    ph, pw = plate.shape
    width = rng.uniform(120, 300) if rows == 1 else rng.uniform(90, 160)
    sc = width / pw
    H, W = STREET_HW
    scene = np.asarray(cv2.GaussianBlur(
        np.clip(rng.normal(rng.uniform(40, 200), 25, (H, W)), 0, 255).astype(np.float32),
        (0, 0), 6), dtype=np.float32)
    for _ in range(int(rng.integers(3, 9))):  # bumper, grille bars, lamps
        x0, y0 = int(rng.integers(0, W)), int(rng.integers(0, H))
        x1, y1 = x0 + int(rng.integers(20, 400)), y0 + int(rng.integers(5, 120))
        scene[y0:y1, x0:x1] = float(rng.uniform(0, 255))
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    flat = src * sc
    max_angle = 8.0 if rows == 1 else 4.0
    angle = np.radians(rng.uniform(-max_angle, max_angle))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    shear = np.tan(np.radians(rng.uniform(-12, 12)))
    fw, fh = flat[2]
    dst = flat - flat.mean(axis=0)
    dst[:, 1] += dst[:, 0] * shear
    dst = dst @ rot.T
    dst += rng.uniform(-0.04, 0.04, (4, 2)) * np.array([fw, fh])
    lo = -dst.min(axis=0) + 10
    hi = np.array([W, H]) - dst.max(axis=0) - 10
    dst = (dst + rng.uniform(lo, hi)).astype(np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(plate.astype(np.float32), m, (W, H))
    mask = cv2.warpPerspective(np.ones_like(plate, np.float32), m, (W, H))
    img = scene * (1 - mask) + warped * mask
    if rng.random() < 0.6:
        img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.3, 1.2)))
    img = img * rng.uniform(0.6, 1.0) + rng.normal(0, rng.uniform(0, 8), img.shape)
    grey = np.clip(img, 0, 255).astype(np.uint8)
    ok, enc = cv2.imencode(".jpg", grey, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 95))])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    bgr = cv2.cvtColor(cv2.imdecode(enc, cv2.IMREAD_GRAYSCALE), cv2.COLOR_GRAY2BGR)
    return np.asarray(bgr, np.uint8), dst, text, rows
