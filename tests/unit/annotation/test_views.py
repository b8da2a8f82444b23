"""Views: material views through vision.xray, 16-bit data for window/level, tiles, MIPs."""

from __future__ import annotations

import numpy as np
import pytest

from annotation.scan_decode import decode_image, dual_energy_npz
from annotation.views import (
    DUAL_VIEWS,
    TILE_SIZE,
    TileGrid,
    UnknownView,
    available_views,
    cut_tile,
    downscale,
    projected_boxes,
    raw16,
    render_view,
)
from tests.fixtures.review import bag_pair, npz_bytes, png_bytes

SHA = "c" * 64


@pytest.fixture(scope="module")
def dual():  # type: ignore[no-untyped-def]
    return decode_image(SHA, dual_energy_npz(*bag_pair()))


@pytest.mark.parametrize("view", DUAL_VIEWS)
def test_every_dual_view_is_uint8_of_the_image_size(dual, view: str) -> None:  # type: ignore[no-untyped-def]
    out = render_view(dual, view)
    assert out.dtype == np.uint8 and out.shape[:2] == (96, 128)


def test_material_views_separate_metal_from_organic(dual) -> None:  # type: ignore[no-untyped-def]
    metal = render_view(dual, "metal_only")
    organic = render_view(dual, "organic_only")
    steel = (slice(35, 55), slice(45, 75))  # the blocks of bag_pair
    sugar = (slice(68, 77), slice(24, 46))
    assert metal[steel].mean() < 200 and metal[sugar].mean() > 250
    assert organic[sugar].mean() < 200 and organic[steel].mean() > 250
    assert (render_view(dual, "pseudo_colour")[0:5, 0:5] == 255).all()  # air is white


def test_raw16_is_the_high_channel(dual) -> None:  # type: ignore[no-untyped-def]
    raw = raw16(dual)
    assert raw.dtype == np.uint16 and raw.shape == (96, 128)
    assert raw[40, 60] < raw[20, 20] < raw[2, 2]  # metal < bag < air


def test_8bit_images_give_scaled_luminance_for_window_level() -> None:
    img = decode_image(SHA, png_bytes(np.full((8, 8), 255, np.uint8)))
    assert available_views(img) == ("original",)
    assert int(raw16(img).max()) == 65535


def test_unknown_view_names_the_choices(dual) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownView, match="pseudo_colour"):
        render_view(dual, "xray_vision")


@pytest.mark.parametrize(("w", "h", "levels", "tiles0"), [
    (256, 256, 1, (1, 1)), (257, 100, 2, (2, 1)), (2688, 2208, 5, (11, 9)), (1, 1, 1, (1, 1)),
])
def test_tile_grid(w: int, h: int, levels: int, tiles0: tuple[int, int]) -> None:
    g = TileGrid.for_size(w, h)
    assert g.levels == levels and g.tiles(0) == tiles0
    top = g.level_size(g.levels - 1)
    assert max(top) <= TILE_SIZE


@pytest.mark.parametrize(("level", "tx", "ty"), [(-1, 0, 0), (5, 0, 0), (0, 11, 0), (0, 0, -1)])
def test_tile_outside_the_grid_is_refused(level: int, tx: int, ty: int) -> None:
    with pytest.raises(ValueError, match="tile"):
        TileGrid.for_size(2688, 2208).check(level, tx, ty)


def test_tiles_cover_the_level_image() -> None:
    view = np.arange(600 * 300, dtype=np.uint32).reshape(300, 600).astype(np.uint8)
    g = TileGrid.for_size(600, 300)
    assert cut_tile(view, 2, 1).shape == (300 - 256, 600 - 512)
    assert downscale(view, g, 1).shape == (150, 300)


def test_ct_mips_and_projected_3d_boxes() -> None:
    vol = np.zeros((8, 20, 30), np.float32)
    vol[2:5, 4:9, 10:20] = 1000.0
    img = decode_image(SHA, npz_bytes(volume=vol, boxes3d=np.array([[10, 4, 2, 20, 9, 5]]),
                                      labels3d=np.array(["ied"])))
    assert render_view(img, "mip_axial").shape == (20, 30)
    assert render_view(img, "mip_front").shape == (8, 30)
    assert render_view(img, "mip_side").shape == (8, 20)
    assert projected_boxes(img, "mip_axial") == [{"label": "ied", "box": [10, 4, 20, 9]}]
    assert projected_boxes(img, "mip_front") == [{"label": "ied", "box": [10, 2, 20, 5]}]
    assert projected_boxes(img, "mip_side") == [{"label": "ied", "box": [4, 2, 9, 5]}]
