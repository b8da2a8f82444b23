"""Scene geometry: projections agree on mass; voxels; masks and boxes."""

from __future__ import annotations

import math
from typing import Any, cast

import numpy as np
import pytest

from datasets.synth.geometry import (
    Part,
    Scene,
    SceneObject,
    mask_box,
    object_mask,
    object_side_mask,
    project_side,
    project_top,
    voxelise,
)
from datasets.synth.shapes import Placement, cylinder_chord


def _scene() -> Scene:
    scene = Scene("test", 64, 80, 0.5, depth_cm=20.0)
    at = Placement(cx=40, cy=32, zc=10.0, angle=0.3, pixel_cm=0.5)
    f = at.frame(12.0)
    _, v = f.uv
    rod = f.rect(-10, 10, -2, 2)
    scene.add(SceneObject("rod", "thing", [f.part("water", 1.0, cylinder_chord(v, 2.0) * rod,
                                                   at.zc)]))
    scene.add(SceneObject("slab", None, [Part("iron", 7.874, np.full((10, 10), 0.5, np.float32),
                                              5, 5, 4.0)]))
    return scene


def test_top_and_side_views_conserve_mass() -> None:
    scene = _scene()
    px2 = scene.pixel_cm ** 2
    top = project_top(scene)
    side = project_side(scene)
    assert top.mass_thickness.shape[1:] == (64, 80)
    assert side.mass_thickness.shape[1:] == (40, 80)
    water_mass = math.pi * 2.0**2 * 20.0  # g (cylinder of water, 1 g/cm^3)
    for stack in (top, side):
        names = [m.name for m in stack.materials]
        assert float(stack.mass_thickness[names.index("water")].sum()) * px2 == pytest.approx(
            water_mass, rel=0.05)
        assert float(stack.mass_thickness[names.index("iron")].sum()) * px2 == pytest.approx(
            7.874 * 0.5 * 25.0, rel=0.05)


def test_voxelise_places_material_at_its_height() -> None:
    scene = _scene()
    mat, den, mats = voxelise(scene, voxel_cm=1.0)
    assert mat.shape == (32, 20, 40) and den.dtype == np.float32
    iron = [m.name for m in mats].index("iron") + 1
    rows = np.nonzero((mat == iron).any(axis=(0, 2)))[0]
    # slab centred 4 cm above the belt, 0.5 cm thick: row index from the top ~ 20 - 4 = 16
    assert rows.min() >= 15 and rows.max() <= 16


def test_masks_and_boxes() -> None:
    scene = _scene()
    mask = object_mask(scene.objects[1], 64, 80)
    assert mask_box(mask) == (5.0, 5.0, 15.0, 15.0)
    assert mask_box(np.zeros((4, 4), bool)) is None
    side = object_side_mask(scene.objects[0], scene)
    assert side.any() and side.shape == (40, 80)


def test_part_validation() -> None:
    with pytest.raises(ValueError):
        Part("water", 1.0, cast(Any, np.ones((2, 2), np.float64)), 0, 0, 1.0)
    with pytest.raises(ValueError):
        Part("water", 0.0, np.ones((2, 2), np.float32), 0, 0, 1.0)
    with pytest.raises(ValueError, match="unknown material"):
        Part("kryptonite", 1.0, np.ones((2, 2), np.float32), 0, 0, 1.0)
