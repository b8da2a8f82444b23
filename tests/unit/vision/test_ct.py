"""CT: phantom, sinograms, FBP, CT numbers, dual-energy Zeff, metrics, MIP."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.ndimage import binary_erosion

from vision.ct.dual_energy import simulate_ct, zeff_from_mu
from vision.ct.phantom import CTPhantom
from vision.ct.reconstruction import (
    ct_numbers,
    default_angles,
    forward_project,
    mip,
    reconstruct_fbp,
    slice_errors,
    window_to_uint8,
)
from vision.xray import get_material

MATS = tuple(get_material(n) for n in ("water", "aluminium", "polyethylene", "glass"))
_IN_PLANE = np.ones((1, 3, 3), bool)


def _inner(mask: NDArray[Any], iterations: int) -> NDArray[Any]:
    """Erode a (S, H, W) mask within each slice only."""
    return np.asarray(binary_erosion(mask, structure=_IN_PLANE, iterations=iterations))


def phantom(slices: int = 4, size: int = 32) -> CTPhantom:
    """Water cylinder with an aluminium rod, a polyethylene block and a glass rod."""
    mi = np.zeros((slices, size, size), np.uint8)
    den = np.zeros(mi.shape, np.float32)
    yy, xx = np.mgrid[:size, :size]
    c = size / 2
    for idx, mask, rho in (
        (1, (yy - c) ** 2 + (xx - c) ** 2 < (0.42 * size) ** 2, 1.0),
        (2, (yy - 0.35 * size) ** 2 + (xx - 0.35 * size) ** 2 < (0.12 * size) ** 2, 2.7),
        (3, (abs(yy - 0.65 * size) < 0.12 * size) & (abs(xx - 0.3 * size) < 0.12 * size), 0.94),
        (4, (yy - 0.62 * size) ** 2 + (xx - 0.68 * size) ** 2 < (0.1 * size) ** 2, 2.4),
    ):
        mi[:, mask] = idx
        den[:, mask] = rho
    return CTPhantom(mi, den, MATS, 0.5)


def test_phantom_properties_and_validation() -> None:
    ph = phantom()
    assert ph.zeff()[0, 16, 16] == pytest.approx(7.42, abs=0.02)
    assert ph.linear_attenuation(100.0)[0, 16, 16] == pytest.approx(0.1707, rel=1e-3)
    with pytest.raises(ValueError, match="uint8"):
        CTPhantom(cast(Any, ph.material_index.astype(np.int32)), ph.density, MATS, 0.5)
    with pytest.raises(ValueError, match="not listed"):
        CTPhantom(ph.material_index, ph.density, MATS[:2], 0.5)
    with pytest.raises(ValueError, match="voxel"):
        CTPhantom(ph.material_index, ph.density, MATS, 0.0)


def test_fbp_reconstructs_mu_and_ct_numbers() -> None:
    ph = phantom()
    mu = ph.linear_attenuation(100.0)
    angles = default_angles(90)
    sino = forward_project(mu, ph.voxel_cm, angles)
    assert sino.shape[0] == 4 and sino.shape[2] == 90
    # line integral through the water centre ~ diameter * mu (plus inserts)
    assert float(sino[0].max()) > 0.84 * 32 * 0.5 * 0.17 * 0.8
    rec = reconstruct_fbp(sino, angles, ph.voxel_cm, (32, 32))
    err = slice_errors(rec, mu)
    assert err.rmse.shape == (4,) and err.mean_ssim > 0.8
    assert err.mean_rmse < 0.1 * float(mu.max())
    hu = ct_numbers(rec, 0.1707)
    water = binary_erosion(ph.material_index[0] == 1, iterations=2)
    assert abs(float(np.median(hu[0][water]))) < 60
    assert float(np.median(hu[0][:2, :2])) < -800  # air corner


def test_dual_energy_ct_zeff_ideal_data() -> None:
    ph = phantom()
    scan = simulate_ct(ph, photons=None)
    for idx, mat in enumerate(MATS, start=1):
        inner = _inner(ph.material_index == idx, 1)
        assert abs(float(np.median(scan.zeff[inner])) - mat.zeff) <= 1.5, mat.name
    assert scan.errors.mean_ssim > 0.8


def test_dual_energy_ct_with_noise_keeps_classes() -> None:
    ph = phantom()
    scan = simulate_ct(ph, photons=5e5, rng=np.random.default_rng(0))
    water = _inner(ph.material_index == 1, 2)
    alu = _inner(ph.material_index == 2, 1)
    assert float(np.median(scan.zeff[water])) < 10.0
    assert float(np.median(scan.zeff[alu])) > 10.0
    assert np.isfinite(scan.errors.rmse).all()


def test_metrics_projections_and_errors() -> None:
    vol = np.random.default_rng(0).random((3, 8, 9)).astype(np.float32)
    assert mip(vol, axis=1).shape == (3, 9)
    assert (mip(vol, axis=0) == vol.max(axis=0)).all()
    errs = slice_errors(vol, vol)
    assert np.allclose(errs.rmse, 0) and np.allclose(errs.ssim, 1)
    with pytest.raises(ValueError):
        slice_errors(vol, vol[:2])
    with pytest.raises(ValueError):
        zeff_from_mu(vol, vol[:2])
    assert window_to_uint8(np.array([[-2000.0, 0.0, 5000.0]], np.float32), -1000, 3000).tolist() \
        == [[0, 64, 255]]
    with pytest.raises(ValueError):
        default_angles(1)
