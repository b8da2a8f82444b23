"""TIP rendering: a synthetic threat projected by Beer-Lambert into real-looking scans."""

from __future__ import annotations

import numpy as np
import pytest

from annotation.scan_decode import decode_image, dual_energy_npz
from annotation.tip_render import TIP_CLASSES, TipNotApplicable, make_threat, project
from annotation.views import render_view
from tests.fixtures.review import bag_pair, npz_bytes, png_bytes

SHA = "d" * 64


@pytest.fixture(scope="module")
def bag():  # type: ignore[no-untyped-def]
    return decode_image(SHA, dual_energy_npz(*bag_pair(192, 256)))


def test_same_seed_same_threat(bag) -> None:  # type: ignore[no-untyped-def]
    a, b = make_threat(bag, 11), make_threat(bag, 11)
    assert a.label == b.label and a.box == b.box and np.array_equal(a.high, b.high)
    assert a.label in TIP_CLASSES


def test_threat_lies_in_the_image_and_attenuates_only_there(bag) -> None:  # type: ignore[no-untyped-def]
    p = make_threat(bag, 5)
    x1, y1, x2, y2 = p.box
    assert 0 <= x1 < x2 <= bag.width and 0 <= y1 < y2 <= bag.height
    inside = p.high[int(y1):int(y2), int(x1):int(x2)]
    assert inside.min() < 0.9  # something dense is there
    outside = p.high.copy()
    outside[int(y1):int(y2), int(x1):int(x2)] = 1.0
    assert outside.min() == pytest.approx(1.0)


def test_projection_multiplies_transmissions(bag) -> None:  # type: ignore[no-untyped-def]
    p = make_threat(bag, 5)
    out = project(bag, p, "k#tip")
    assert out.key == "k#tip" and out.kind == "dual_energy" and out.encoding == bag.encoding
    assert out.high is not None and bag.high is not None
    np.testing.assert_allclose(out.high, np.clip(bag.high * p.high, 1e-6, 1), atol=1e-6)
    assert render_view(out, "pseudo_colour").shape == (192, 256, 3)


def test_rgb_scan_is_darkened_where_the_threat_is() -> None:
    rgb = np.full((120, 160, 3), 200, np.uint8)
    img = decode_image(SHA, png_bytes(rgb))
    p = make_threat(img, 3)
    out = project(img, p, "k2")
    x1, y1, x2, y2 = (int(v) for v in p.box)
    assert out.rgb is not None
    assert out.rgb[y1:y2, x1:x2].mean() < 195
    changed = np.argwhere((out.rgb != 200).any(axis=2))
    assert changed[:, 0].min() >= y1 and changed[:, 1].max() < x2


@pytest.mark.parametrize("data", [
    npz_bytes(volume=np.zeros((4, 30, 30), np.float32)),
    dual_energy_npz(*bag_pair(), "log", "linac_4_6MV"),
])
def test_not_applicable_to_ct_or_cargo(data: bytes) -> None:
    with pytest.raises(TipNotApplicable):
        make_threat(decode_image(SHA, data), 1)
