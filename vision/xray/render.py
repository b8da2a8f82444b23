"""Reviewer views of a dual-energy pair: vendor pseudo-colour, grayscale, edges, class-only.

Pseudo-colour follows the vendor convention: hue from Zeff (orange = organic, green =
inorganic/mixed, blue = metal), brightness from attenuation (thin = pale, thick = dark, no
signal = black), background white. Colour is looked up from a table over
(A_H = -ln T_high, R = A_L / A_H) that shares rows/columns with the Zeff calibration, so one
``cv2.remap`` renders an image.

All outputs are uint8; RGB images are (H, W, 3) in R, G, B order (convert for OpenCV I/O).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import cv2
import numpy as np
from numpy.typing import NDArray

from vision.xray.spectra import DualEnergySpectrum, dual_layer_160kv
from vision.xray.transmission import validate_pair
from vision.xray.zeff import (
    MaterialClass,
    calibrate,
    material_classes,
    remap_table,
    zeff_map,
)

U8 = NDArray[np.uint8]
F32 = NDArray[np.float32]
RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Palette:
    """Parameters of the pseudo-colour mapping.

    Attributes:
        stops: (Zeff, RGB) colour stops, Zeff ascending; colours are linearly interpolated.
        saturation_attenuation: A_H at which a material reaches 63 % of its full colour
            (thinner objects fade towards white).
        dark_knee: A_H above which brightness falls.
        dark_rate: exponential darkening per unit A_H above the knee.
        gamma: applied to the final shade (< 1 brightens mid-tones).
        background_attenuation: pixels with A_H below this are drawn white.
        colour_floor: fraction of full colour already shown by the thinnest objects.
        min_colour_attenuation: below this A_H colour fades to grey (material statements
            need signal; cargo displays use ~1, baggage 0 = off).
        attenuation_hue_shift: colour is looked up at Zeff + shift * min(A_H, 3), so thick
            overlapping organics drift towards green as on vendor displays (0 = off). The
            Zeff map and the material classes are not affected.
    """

    stops: tuple[tuple[float, RGB], ...]
    saturation_attenuation: float = 0.25
    dark_knee: float = 0.6
    dark_rate: float = 0.45
    gamma: float = 1.0
    background_attenuation: float = 0.02
    attenuation_hue_shift: float = 0.0
    colour_floor: float = 0.0
    min_colour_attenuation: float = 0.0

    def __post_init__(self) -> None:
        zs = [z for z, _ in self.stops]
        if len(zs) < 2 or any(b <= a for a, b in zip(zs, zs[1:], strict=False)):
            raise ValueError("palette needs >= 2 stops with ascending Zeff")
        if self.saturation_attenuation <= 0 or self.dark_rate < 0 or self.gamma <= 0:
            raise ValueError("palette attenuation scales must be positive")
        if not 0.0 <= self.colour_floor < 1.0:
            raise ValueError("colour_floor must be in [0, 1)")


#: Hand-set palette before tuning against real scans (kept to report the realism gain).
INITIAL_PALETTE: Final[Palette] = Palette(
    stops=(
        (5.0, (240, 150, 50)), (8.5, (230, 140, 40)), (10.0, (170, 170, 60)),
        (12.0, (90, 170, 70)), (16.0, (60, 150, 140)), (19.0, (50, 110, 210)),
        (30.0, (40, 70, 200)),
    ),
)

#: Default palette: INITIAL_PALETTE's structure with colours and parameters tuned against the
#: real SIXray negatives (random + coordinate search on the realism distance of
#: :mod:`vision.xray.realism`; reproduce with ``python bench/bench_scan_physics.py --tune``).
DEFAULT_PALETTE: Final[Palette] = Palette(
    stops=(
        (5.0, (220, 170, 70)), (7.51, (215, 160, 60)), (9.85, (125, 165, 55)),
        (16.4, (30, 110, 170)), (26.4, (20, 60, 130)),
    ),
    saturation_attenuation=0.261,
    dark_knee=0.643,
    dark_rate=0.353,
    gamma=0.798,
    attenuation_hue_shift=2.389,
    colour_floor=0.073,
)


def _stop_colours(zeff: F32, palette: Palette) -> F32:
    """Interpolate the stop colours in HSV (hue, saturation, value): RGB-linear blends between
    green and blue would pass through grey."""
    zs = np.array([z for z, _ in palette.stops], dtype=np.float32)
    rgb = np.array([c for _, c in palette.stops], dtype=np.uint8).reshape(1, -1, 3)
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL).reshape(-1, 3).astype(np.float32)
    hue = np.unwrap(hsv[:, 0] * np.float32(2 * np.pi / 256)) * np.float32(256 / (2 * np.pi))
    h = np.interp(zeff, zs, hue) % 256.0
    sat = np.interp(zeff, zs, hsv[:, 1])
    val = np.interp(zeff, zs, hsv[:, 2])
    img = np.stack([h, sat, val], axis=-1).astype(np.float32)
    flat = img.reshape(1, -1, 3)
    out = cv2.cvtColor(np.clip(np.rint(flat), 0, 255).astype(np.uint8), cv2.COLOR_HSV2RGB_FULL)
    return np.asarray(out.reshape(img.shape), dtype=np.float32) / np.float32(255.0)


def colour_for(zeff: F32, a_high: F32, palette: Palette) -> F32:
    """RGB in [0, 1] (shape (..., 3)) for Zeff and high-energy attenuation arrays."""
    z = zeff + np.float32(palette.attenuation_hue_shift) * np.minimum(a_high, np.float32(3.0))
    base = _stop_colours(z.astype(np.float32), palette)
    rise = 1.0 - np.exp(-a_high / palette.saturation_attenuation)
    alpha = palette.colour_floor + (1.0 - palette.colour_floor) * rise
    if palette.min_colour_attenuation > 0:
        alpha = alpha * np.clip(a_high / np.float32(palette.min_colour_attenuation), 0.0, 1.0)
        grey = np.float32(1.0) - np.float32(0.5) * rise  # grey level where colour is withheld
        base = base * alpha[..., None] + grey[..., None] * (1.0 - alpha[..., None])
        alpha = np.ones_like(alpha)
    alpha = alpha[..., None]
    shade = np.exp(-palette.dark_rate * np.maximum(a_high - palette.dark_knee, 0.0))
    shade = (shade ** palette.gamma)[..., None]
    rgb = ((1.0 - alpha) + alpha * base) * shade
    rgb[a_high < palette.background_attenuation] = 1.0
    return np.asarray(np.clip(rgb, 0.0, 1.0), dtype=np.float32)


@lru_cache(maxsize=16)
def _colour_table(spectrum: DualEnergySpectrum, palette: Palette) -> U8:
    cal = calibrate(spectrum)
    n_rows, n_cols = cal.table.shape
    rows = (cal.a_max * (np.arange(n_rows, dtype=np.float32) / (n_rows - 1)) ** 2)
    a_high = np.repeat(rows[:, None], n_cols, axis=1).astype(np.float32)
    rgb = colour_for(cal.table, a_high, palette)
    return np.asarray(np.rint(rgb * 255.0), dtype=np.uint8)


def _coordinates(
    low: F32, high: F32, spectrum: DualEnergySpectrum
) -> tuple[F32, F32, F32]:
    cal = calibrate(spectrum)
    a_low = -np.log(low)
    a_high = -np.log(high)
    ratio = a_low / np.maximum(a_high, np.float32(1e-6))
    n_rows, n_cols = cal.table.shape
    rows = np.sqrt(np.clip(a_high, 0.0, cal.a_max) / np.float32(cal.a_max)) * np.float32(n_rows - 1)
    cols = (ratio - np.float32(cal.r_min)) * np.float32((n_cols - 1) / (cal.r_max - cal.r_min))
    return cols.astype(np.float32), rows.astype(np.float32), a_high


def pseudo_colour(
    low: NDArray[np.generic],
    high: NDArray[np.generic],
    spectrum: DualEnergySpectrum | None = None,
    palette: Palette = DEFAULT_PALETTE,
) -> U8:
    """Vendor-style pseudo-colour RGB (uint8 (H, W, 3)) of a low/high transmission pair."""
    lo, hi = validate_pair(low, high)
    spec = spectrum if spectrum is not None else dual_layer_160kv()
    cols, rows, a_high = _coordinates(lo, hi, spec)
    table = _colour_table(spec, palette)
    out = remap_table(table, cols, rows)
    out[a_high < palette.background_attenuation] = 255
    return np.asarray(out, dtype=np.uint8)


def grayscale_high(
    high: NDArray[np.generic], gamma: float = 0.5, log_range: float | None = None
) -> U8:
    """Grayscale high-energy view, uint8 (H, W), air white.

    Default: 255 * T_high^gamma (baggage). With ``log_range``: 255 * (1 - A_H / log_range),
    a logarithmic display for the large dynamic range of cargo scans.
    """
    arr = np.asarray(high)
    if not np.issubdtype(arr.dtype, np.floating) or arr.ndim != 2:
        raise ValueError("high-energy image must be a 2-D float transmission array")
    if not np.isfinite(arr).all():
        raise ValueError("high-energy image contains NaN or infinite values")
    t = np.clip(arr, 0.0, 1.0).astype(np.float32)
    if log_range is not None:
        a = -np.log(np.maximum(t, np.float32(1e-12)))
        level = np.clip(1.0 - a / np.float32(log_range), 0.0, 1.0)
        return np.asarray(np.rint(255.0 * level), dtype=np.uint8)
    return np.asarray(np.rint(255.0 * t ** np.float32(gamma)), dtype=np.uint8)


def edge_enhance(image: U8, amount: float = 1.0, sigma_px: float = 2.0) -> U8:
    """Unsharp-mask edge enhancement of a uint8 gray (H, W) or RGB (H, W, 3) image."""
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError("edge_enhance expects a uint8 (H, W) or (H, W, 3) image")
    blur = cv2.GaussianBlur(image, (0, 0), sigma_px)
    out = cv2.addWeighted(image, 1.0 + amount, blur, -amount, 0.0)
    return np.asarray(out, dtype=np.uint8)


def class_only_view(
    low: NDArray[np.generic],
    high: NDArray[np.generic],
    keep: Iterable[MaterialClass],
    spectrum: DualEnergySpectrum | None = None,
    palette: Palette = DEFAULT_PALETTE,
) -> U8:
    """Pseudo-colour with every pixel outside the ``keep`` classes painted white."""
    spec = spectrum if spectrum is not None else dual_layer_160kv()
    rgb = pseudo_colour(low, high, spec, palette)
    classes = material_classes(zeff_map(low, high, spec), np.asarray(high))
    mask = np.isin(classes, [int(k) for k in keep])
    rgb[~mask] = 255
    return rgb


def material_views(
    low: NDArray[np.generic],
    high: NDArray[np.generic],
    spectrum: DualEnergySpectrum | None = None,
    palette: Palette = DEFAULT_PALETTE,
) -> dict[str, U8]:
    """All reviewer views: pseudo_colour, high_gray, edges, organic_only, inorganic_only,
    metal_only (metal-only also keeps impenetrable regions, which hide dense objects)."""
    spec = spectrum if spectrum is not None else dual_layer_160kv()
    rgb = pseudo_colour(low, high, spec, palette)
    classes = material_classes(zeff_map(low, high, spec), np.asarray(high))
    views: dict[str, U8] = {
        "pseudo_colour": rgb,
        "high_gray": grayscale_high(high),
        "edges": edge_enhance(rgb),
    }
    for name, keep in (
        ("organic_only", (MaterialClass.ORGANIC,)),
        ("inorganic_only", (MaterialClass.INORGANIC,)),
        ("metal_only", (MaterialClass.METAL, MaterialClass.IMPENETRABLE)),
    ):
        view = rgb.copy()
        view[~np.isin(classes, [int(k) for k in keep])] = 255
        views[name] = view
    return views
