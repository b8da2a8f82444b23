"""Baggage, cargo and backscatter generators: determinism, ground truth, physics sanity."""

from __future__ import annotations

import numpy as np
import pytest

from datasets.synth.backscatter_scene import (
    BACKSCATTER_CLASSES,
    BackscatterConfig,
    generate_backscatter,
)
from datasets.synth.baggage import BAGGAGE_CLASSES, BaggageConfig, generate_baggage
from datasets.synth.cargo import CARGO_CLASSES, HS_CHAPTERS, CargoConfig, generate_cargo
from datasets.synth.shapes import Placement
from datasets.synth.threats import THREAT_BUILDERS, knife

SMALL = BaggageConfig(size=128)


def test_baggage_is_deterministic_and_seed_dependent() -> None:
    a, b, c = generate_baggage(11, SMALL), generate_baggage(11, SMALL), generate_baggage(12, SMALL)
    assert np.array_equal(a.views[0].low, b.views[0].low)
    assert np.array_equal(a.views[0].rgb, b.views[0].rgb)
    assert a.views[0].labels == b.views[0].labels
    assert not np.array_equal(a.views[0].high, c.views[0].high)


@pytest.mark.parametrize("seed", range(6))
def test_baggage_ground_truth_is_consistent(seed: int) -> None:
    sample = generate_baggage(seed, BaggageConfig(size=128, views=2))
    top, side = sample.views
    assert top.low.dtype == np.float32 and top.low.shape == (128, 128)
    assert top.rgb.dtype == np.uint8 and top.rgb.shape == (128, 128, 3)
    assert side.low.shape[1] == 128 and side.low.shape[0] < 128
    assert float(top.low.min()) > 0 and float(top.high.max()) <= 1.0
    for view in sample.views:
        h, w = view.low.shape
        for ann in view.annotations:
            assert ann.label in BAGGAGE_CLASSES
            x1, y1, x2, y2 = ann.box_xyxy
            assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h
            ys, xs = np.nonzero(ann.mask)
            assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == ann.box_xyxy
    threats = [o for o in sample.scene.objects if o.label not in (None, "laptop")]
    assert len(threats) == sample.scene.meta["n_threats"]


@pytest.mark.parametrize("label", sorted(THREAT_BUILDERS))
def test_every_threat_builder_makes_a_labelled_object(label: str) -> None:
    rng = np.random.default_rng(3)
    for _ in range(5):
        obj = THREAT_BUILDERS[label](rng, Placement(100, 100, 10.0, 0.7, 0.15))
        assert obj.label == label
        assert obj.parts and all(p.thickness.max() > 0 for p in obj.parts)


def test_knives_go_down_to_six_centimetres() -> None:
    rng = np.random.default_rng(0)
    lengths = [knife(rng, Placement(100, 100, 10.0, 0.0, 0.15)).attributes["blade_length_cm"]
               for _ in range(200)]
    assert min(lengths) >= 6.0 and min(lengths) < 7.0 and max(lengths) > 20.0


def test_threat_objects_attenuate_more_than_empty_bag_areas() -> None:
    sample = generate_baggage(4, SMALL)
    view = sample.views[0]
    for ann in view.annotations:
        if ann.label in ("handgun", "gun_part"):
            assert float(view.high[ann.mask].min()) < 0.5


def test_cargo_declarations_and_annotations() -> None:
    seen_empty = seen_concealed = seen_match = False
    for seed in range(8):
        s = generate_cargo(seed, CargoConfig(p_empty=0.3, p_concealment=0.5))
        d = s.declaration
        assert d["matches"] == (d["declared_hs_chapter"] == d["actual_hs_chapter"]
                                and not d["concealments"])
        assert d["declared_hs_chapter"] in (None, *HS_CHAPTERS)
        assert sorted(a[0] for a in s.annotations) == sorted(d["concealments"])
        for label, box, mask, _ in s.annotations:
            assert label in CARGO_CLASSES and mask.any() and box[2] > box[0]
        seen_empty |= d["actually_empty"]
        seen_concealed |= bool(d["concealments"])
        seen_match |= d["matches"]
        assert s.low.shape == (288, 1024) and s.rgb.dtype == np.uint8
    assert seen_empty and seen_concealed and seen_match
    a, b = generate_cargo(5), generate_cargo(5)
    assert np.array_equal(a.high, b.high) and a.declaration == b.declaration


def test_backscatter_packages_are_brighter_than_their_surroundings() -> None:
    cfg = BackscatterConfig(photons=None)
    found = 0
    for seed in range(6):
        s = generate_backscatter(seed, cfg)
        assert s.image.dtype == np.float32 and s.image.shape == (cfg.height, cfg.width)
        for label, (x1, y1, x2, y2), attrs in s.annotations:
            assert label in BACKSCATTER_CLASSES
            if label == "organic_package" and attrs["depth_cm"] <= cfg.voxel_depth_cm:
                inside = s.image[int(y1):int(y2), int(x1):int(x2)].mean()
                vehicle = np.median(s.image[s.image > 0.05])  # mostly body panel
                assert inside > 1.2 * vehicle
                found += 1
    assert found > 0
