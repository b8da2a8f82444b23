"""Single-scatter Compton backscatter model."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pytest
from numpy.typing import NDArray

from vision.backscatter import backscatter_energy, backscatter_to_uint8, simulate_backscatter
from vision.xray import get_material

MATS = (get_material("steel"), get_material("cellulose"), get_material("water"))


def _columns() -> NDArray[Any]:
    """Columns: empty | 1 mm steel panel | panel + organic behind | organic | 2 cm steel | water."""
    h, w, d = 2, 6, 60
    mi = np.zeros((h, w, d), np.uint8)
    den = np.zeros(mi.shape, np.float32)
    vox = 0.25
    panel = 7.85 * 0.1 / vox  # areal density of 1 mm steel in one voxel
    mi[:, 1, 0], den[:, 1, 0] = 1, panel
    mi[:, 2, 0], den[:, 2, 0] = 1, panel
    mi[:, 2, 4:40], den[:, 2, 4:40] = 2, 0.6
    mi[:, 3, 4:40], den[:, 3, 4:40] = 2, 0.6
    mi[:, 4, 0:8], den[:, 4, 0:8] = 1, 7.85
    mi[:, 5, :], den[:, 5, :] = 3, 1.0
    image = simulate_backscatter(mi, den, MATS, vox, photons=None, blur_sigma_px=0.0)
    return np.asarray(image[0])


def test_organic_behind_thin_panel_stands_out() -> None:
    empty, panel, hidden, organic, steel, water = (float(v) for v in _columns())
    assert empty == 0.0
    assert hidden > 2.0 * panel
    assert organic > hidden  # the panel dims what is behind it
    assert steel < organic
    assert water == pytest.approx(1.0, abs=0.05)  # 15 cm of water ~ semi-infinite


def test_noise_display_and_validation() -> None:
    mi = np.ones((8, 8, 10), np.uint8)
    den = np.ones((8, 8, 10), np.float32)
    a = simulate_backscatter(mi, den, MATS, 1.0, rng=np.random.default_rng(1))
    b = simulate_backscatter(mi, den, MATS, 1.0, rng=np.random.default_rng(1))
    assert np.array_equal(a, b) and a.dtype == np.float32
    assert backscatter_to_uint8(a).dtype == np.uint8
    assert backscatter_energy(100.0) == pytest.approx(71.9, abs=0.1)
    with pytest.raises(ValueError):
        simulate_backscatter(cast(Any, mi.astype(np.int16)), den, MATS, 1.0)
    with pytest.raises(ValueError):
        simulate_backscatter((mi * 9).astype(np.uint8), den, MATS, 1.0)
    with pytest.raises(ValueError):
        simulate_backscatter(mi, den[:, :, :5], MATS, 1.0)
