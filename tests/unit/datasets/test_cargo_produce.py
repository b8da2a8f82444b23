"""Produce loads (HS chapter 08) of the cargo generator.

Regression: the crate texture was sized with ``int(extent / pixel_cm)`` while
``_Builder.rect`` rounds the extent, so every HS 08 load raised a numpy broadcast ValueError.
"""

from __future__ import annotations

import numpy as np
import pytest

from datasets.synth.cargo import CargoConfig, _Builder, _goods, _truck, generate_cargo
from datasets.synth.geometry import Scene


def _builder(cfg: CargoConfig) -> _Builder:
    return _Builder(Scene("cargo", cfg.height, cfg.width, cfg.pixel_cm, depth_cm=244.0))


@pytest.mark.parametrize("seed", range(0, 200, 7))
def test_produce_load_builds_with_a_textured_water_part(seed: int) -> None:
    cfg = CargoConfig()
    b = _builder(cfg)
    rng = np.random.default_rng(seed)
    objects = _goods(b, rng, "08", *_truck(b, rng))
    assert objects and all(o.kind == "produce" for o in objects)
    for obj in objects:
        water = [p for p in obj.parts if p.material == "water"]
        assert len(water) == 1
        t = water[0].thickness
        # 0.85 * depth * (0.6 .. 1.4), varying over the crate (a texture, not a constant)
        assert t.min() >= 0.85 * 244.0 * 0.6 - 1e-3 and t.max() <= 0.85 * 244.0 * 1.4 + 1e-3
        assert float(t.std()) > 1.0


@pytest.mark.parametrize("extent", [(10.0, 70.0, 5.0, 35.0), (11.3, 67.9, 2.2, 28.4),
                                    (0.0, 0.4, 0.0, 0.4)])
def test_rect_shape_matches_rect(extent: tuple[float, float, float, float]) -> None:
    b = _builder(CargoConfig())
    part = b.rect(*extent, "water", 0.5, 1.0)
    assert b.rect_shape(*extent) == part.thickness.shape


def test_generated_truck_with_produce_is_annotated_and_rendered() -> None:
    s = generate_cargo(14)  # seed 14 loads and declares HS 08
    assert s.declaration["actual_hs_chapter"] == "08"
    assert s.declaration["matches"] is True
    assert s.rgb.shape == (288, 1024, 3) and s.low.shape == s.high.shape == (288, 1024)
    assert any(o.kind == "produce" for o in s.scene.objects)
