"""Reviewer views of a :class:`~annotation.scan_decode.ScanImage`: material views, MIPs, the
16-bit data for window/level, tiles and PNG encoding.

The X-ray physics (pseudo-colour, organic/inorganic/metal-only, high-energy grey) is
:func:`vision.xray.material_views`; this module only picks the spectrum and palette and shapes
the output. Every rendered view is uint8, (H, W) grey or (H, W, 3) RGB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, TypeVar

import cv2
import numpy as np
from numpy.typing import NDArray

from annotation.scan_decode import ScanImage
from datasets.synth.cargo import CARGO_PALETTE
from vision.xray import (
    DEFAULT_PALETTE,
    dual_layer_160kv,
    linac_dual_energy,
    material_views,
    pseudo_colour,
)
from vision.xray.render import Palette
from vision.xray.spectra import DualEnergySpectrum

U8 = NDArray[np.uint8]
U16 = NDArray[np.uint16]

#: Views of a dual-energy image, in the order the UI offers them (keys 1..6).
DUAL_VIEWS: Final[tuple[str, ...]] = ("pseudo_colour", "organic_only", "inorganic_only",
                                      "metal_only", "high_gray", "edges")
CT_VIEWS: Final[tuple[str, ...]] = ("mip_axial", "mip_front", "mip_side")
TILE_SIZE: Final[int] = 256
MAX_LEVEL: Final[int] = 8


class UnknownView(ValueError):
    """The view does not exist for this kind of image."""


def available_views(img: ScanImage) -> tuple[str, ...]:
    """Rendered views of ``img`` (the 16-bit ``raw`` data is separate: :func:`raw16`)."""
    if img.kind == "dual_energy":
        return DUAL_VIEWS
    if img.kind == "ct":
        return CT_VIEWS
    if img.kind == "gray16":
        return ("gray",)
    return ("original",)


def spectrum_and_palette(name: str | None) -> tuple[DualEnergySpectrum, Palette]:
    """Cargo linac scans need the linac spectrum and the cargo palette; else baggage."""
    if name and name.startswith("linac"):
        return linac_dual_energy(), CARGO_PALETTE
    return dual_layer_160kv(), DEFAULT_PALETTE


def render_all_dual(img: ScanImage) -> dict[str, U8]:
    """Every dual-energy view at once (they share the Zeff and class maps)."""
    if img.low is None or img.high is None:
        raise UnknownView("not a dual-energy image")
    spectrum, palette = spectrum_and_palette(img.spectrum)
    views = material_views(img.low, img.high, spectrum, palette)
    return {name: views[name] for name in DUAL_VIEWS}


def render_pseudo_colour(img: ScanImage) -> U8:
    """Only the pseudo-colour view (what the viewer opens with): about a third of the work of
    :func:`render_all_dual`, which also needs the Zeff and material class maps."""
    if img.low is None or img.high is None:
        raise UnknownView("not a dual-energy image")
    spectrum, palette = spectrum_and_palette(img.spectrum)
    return pseudo_colour(img.low, img.high, spectrum, palette)


def _auto_window(data: NDArray[Any]) -> U8:
    """Percentile window (0.5 %-99.5 %) to uint8; flat images map to mid-grey."""
    sample = data[:: max(1, data.shape[0] // 256), :: max(1, data.shape[1] // 256)]
    lo, hi = (float(v) for v in np.percentile(sample, (0.5, 99.5)))
    if hi <= lo:
        return np.full(data.shape, 128, dtype=np.uint8)
    scaled = (data.astype(np.float32) - np.float32(lo)) * np.float32(255.0 / (hi - lo))
    return np.asarray(np.clip(scaled, 0, 255), dtype=np.uint8)


def ct_mip(volume: NDArray[np.float32], view: str) -> NDArray[np.float32]:
    """Maximum-intensity projection: axial (H, W), front (S, W) or side (S, H)."""
    axis = {"mip_axial": 0, "mip_front": 1, "mip_side": 2}.get(view)
    if axis is None:
        raise UnknownView(f"unknown CT view {view!r}; choose one of {', '.join(CT_VIEWS)}")
    return np.asarray(volume.max(axis=axis), dtype=np.float32)


def render_view(img: ScanImage, view: str) -> U8:
    """One view of ``img`` as uint8 (computing all dual-energy views: cache the result)."""
    if view not in available_views(img):
        raise UnknownView(f"view {view!r} does not exist for a {img.kind} image; choose one "
                          f"of {', '.join(available_views(img))}")
    if img.kind == "dual_energy":
        return render_all_dual(img)[view]
    if img.kind == "ct":
        return _auto_window(ct_mip(_need(img.volume, "volume"), view))
    if img.kind == "gray16":
        return _auto_window(_need(img.gray16, "gray16"))
    rgb = _need(img.rgb, "rgb")
    # grey scans travel as one channel: a third of the bytes to encode and send
    return np.ascontiguousarray(rgb[:, :, 0]) if img.kind == "gray8" else rgb


T = TypeVar("T")


def _need(value: T | None, what: str) -> T:
    """The array the image's kind promises (a malformed ScanImage is a programming error)."""
    if value is None:
        raise ValueError(f"image has no {what} data")
    return value


def raw16(img: ScanImage) -> U16:
    """The 16-bit data behind window/level, uint16 (H, W) in the image's frame.

    Dual energy: the raw high-energy channel; 16-bit grey as stored; 8-bit images: luminance
    scaled by 257 (so 255 -> 65535); CT: the axial MIP scaled over its range.
    """
    if img.gray16 is not None:
        return img.gray16
    if img.kind == "ct":
        m = ct_mip(_need(img.volume, "volume"), "mip_axial")
        lo, hi = float(m.min()), float(m.max())
        span = hi - lo if hi > lo else 1.0
        return np.asarray(np.rint((m - lo) * (65535.0 / span)), dtype=np.uint16)
    grey = cv2.cvtColor(_need(img.rgb, "rgb"), cv2.COLOR_RGB2GRAY)
    return np.asarray(grey.astype(np.uint16) * np.uint16(257), dtype=np.uint16)


def projected_boxes(img: ScanImage, view: str) -> list[dict[str, Any]]:
    """CT 3-D boxes (x1, y1, z1, x2, y2, z2 voxels) projected into a MIP view's pixel frame."""
    if img.kind != "ct" or img.boxes3d is None:
        return []
    cols = {"mip_axial": (0, 1, 3, 4), "mip_front": (0, 2, 3, 5), "mip_side": (1, 2, 4, 5)}
    pick = cols.get(view)
    if pick is None:
        return []
    return [{"label": lab, "box": [float(b[i]) for i in pick]}
            for b, lab in zip(img.boxes3d, img.labels3d, strict=True)]


@dataclass(frozen=True)
class TileGrid:
    """Tiles of a view: level ``L`` is the view downscaled by ``2**L``; tiles are
    ``TILE_SIZE`` px squares, row-major from the top-left, the last ones cropped."""

    width: int
    height: int
    levels: int

    @classmethod
    def for_size(cls, width: int, height: int) -> TileGrid:
        levels = 1
        while max(width, height) > TILE_SIZE * 2 ** (levels - 1) and levels <= MAX_LEVEL:
            levels += 1
        return cls(width, height, levels)

    def level_size(self, level: int) -> tuple[int, int]:
        f = 2 ** level
        return max(1, -(-self.width // f)), max(1, -(-self.height // f))

    def tiles(self, level: int) -> tuple[int, int]:
        w, h = self.level_size(level)
        return -(-w // TILE_SIZE), -(-h // TILE_SIZE)

    def check(self, level: int, tx: int, ty: int) -> None:
        if not 0 <= level < self.levels:
            raise ValueError(f"tile level must be 0..{self.levels - 1}, got {level}")
        nx, ny = self.tiles(level)
        if not (0 <= tx < nx and 0 <= ty < ny):
            raise ValueError(f"tile ({tx}, {ty}) is outside level {level}'s {nx} x {ny} tiles")


def downscale(view: U8, grid: TileGrid, level: int) -> U8:
    """The view at ``level`` (area-averaged), uint8."""
    if level == 0:
        return view
    w, h = grid.level_size(level)
    return np.asarray(cv2.resize(view, (w, h), interpolation=cv2.INTER_AREA), dtype=np.uint8)


def cut_tile(level_view: U8, tx: int, ty: int) -> U8:
    y0, x0 = ty * TILE_SIZE, tx * TILE_SIZE
    return np.ascontiguousarray(level_view[y0:y0 + TILE_SIZE, x0:x0 + TILE_SIZE])


def encode_png(image: NDArray[Any], compression: int = 1) -> bytes:
    """PNG bytes of uint8/uint16 grey or uint8 RGB (RGB order). Level 1: fast, ~15 % larger
    than the default for scan data, which matters more for tiles than size does."""
    arr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    ok, buf = cv2.imencode(".png", arr, [cv2.IMWRITE_PNG_COMPRESSION, compression])
    if not ok:
        raise ValueError("PNG encoding failed")
    return bytes(buf.tobytes())
