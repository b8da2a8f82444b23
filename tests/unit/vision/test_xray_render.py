"""Pseudo-colour, reviewer views and realism statistics."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pytest
from numpy.typing import NDArray

from vision.xray import (
    DEFAULT_PALETTE,
    MaterialStack,
    Palette,
    edge_enhance,
    get_material,
    grayscale_high,
    material_views,
    pseudo_colour,
    simulate_dual_energy,
)
from vision.xray.realism import image_set_stats, realism_distance


def _strip() -> tuple[NDArray[Any], NDArray[Any]]:
    """32 x 96 image: air | 5 cm water | 1 cm aluminium | 0.3 cm iron | 6 cm iron (columns)."""
    names = ["water", "aluminium", "iron"]
    mats = tuple(get_material(n) for n in names)
    mt = np.zeros((3, 32, 100), np.float32)
    mt[0, :, 20:40] = 5.0 * 1.0
    mt[1, :, 40:60] = 1.0 * 2.699
    mt[2, :, 60:80] = 0.3 * 7.874
    mt[2, :, 80:100] = 6.0 * 7.874
    return simulate_dual_energy(MaterialStack(mats, mt), detector=None)


def test_pseudo_colour_follows_vendor_convention() -> None:
    low, high = _strip()
    rgb = pseudo_colour(low, high)
    assert rgb.dtype == np.uint8 and rgb.shape == (32, 100, 3)
    air, water, alu, iron, thick = (rgb[16, c].astype(int) for c in (10, 30, 50, 70, 90))
    assert (air == 255).all()
    assert water[0] > water[2] + 60  # orange: red well above blue
    assert alu[1] > alu[2] and alu[1] >= alu[0]  # green dominant
    assert iron[2] > iron[0] + 60  # blue
    assert thick.max() < 60  # impenetrable: nearly black


def test_class_only_views_blank_other_materials() -> None:
    low, high = _strip()
    views = material_views(low, high)
    assert set(views) == {"pseudo_colour", "high_gray", "edges", "organic_only",
                          "inorganic_only", "metal_only"}
    assert (views["organic_only"][16, 70] == 255).all()  # iron removed
    assert not (views["organic_only"][16, 30] == 255).all()  # water kept
    assert (views["metal_only"][16, 30] == 255).all()
    assert not (views["metal_only"][16, 70] == 255).all()
    assert not (views["inorganic_only"][16, 50] == 255).all()
    assert views["high_gray"].shape == (32, 100) and views["high_gray"][16, 10] == 255


def test_grayscale_and_edges() -> None:
    _, high = _strip()
    g = grayscale_high(high)
    assert g[16, 10] == 255 and g[16, 90] < g[16, 30]
    log = grayscale_high(high, log_range=8.0)
    assert log.dtype == np.uint8
    e = edge_enhance(g)
    # unsharp masking raises contrast at the water/aluminium boundary
    assert abs(int(e[16, 38]) - int(e[16, 41])) > abs(int(g[16, 38]) - int(g[16, 41]))
    with pytest.raises(ValueError):
        edge_enhance(cast(Any, g.astype(np.float32)))
    with pytest.raises(ValueError):
        grayscale_high(np.full((2, 2), np.nan, np.float32))


def test_palette_validation() -> None:
    with pytest.raises(ValueError):
        Palette(stops=((10.0, (0, 0, 0)), (5.0, (1, 1, 1))))
    with pytest.raises(ValueError):
        Palette(stops=DEFAULT_PALETTE.stops, colour_floor=1.5)


def test_realism_distance() -> None:
    orange = np.zeros((64, 64, 3), np.uint8)
    orange[:] = (230, 140, 40)
    blue = np.zeros((64, 64, 3), np.uint8)
    blue[:] = (40, 90, 210)
    a, b = image_set_stats([orange]), image_set_stats([blue])
    assert realism_distance(a, a)["total"] == pytest.approx(0.0)
    d = realism_distance(a, b)
    assert d["hue"] == pytest.approx(1.0)
    assert 0 < d["total"] <= 1
    with pytest.raises(ValueError):
        image_set_stats([cast(Any, orange.astype(np.float32))])
    with pytest.raises(ValueError):
        image_set_stats([])
