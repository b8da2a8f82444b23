"""Materials, spectra, Beer-Lambert transmission, detector model and raw encoding."""

from __future__ import annotations

import math
from typing import Any, cast

import numpy as np
import pytest
from numpy.typing import NDArray

from vision.xray import (
    MATERIALS,
    DetectorModel,
    MaterialStack,
    decode_raw16,
    dual_layer_160kv,
    encode_raw16,
    get_material,
    linac_dual_energy,
    simulate_dual_energy,
    two_effective_energies,
)
from vision.xray.materials import Material, element_mass_attenuation, from_formula
from vision.xray.transmission import RawScheme


@pytest.mark.parametrize(("name", "energy", "nist"), [
    # NIST Table 4 values for the compounds (mixture rule on Table 3 elements must agree)
    ("water", 60.0, 0.2059), ("water", 100.0, 0.1707), ("water", 20.0, 0.8096),
])
def test_mixture_rule_reproduces_nist_compound_values(
    name: str, energy: float, nist: float
) -> None:
    got = float(get_material(name).mass_attenuation([energy])[0])
    assert got == pytest.approx(nist, rel=2e-3)


def test_lead_k_edge_jump() -> None:
    below, above = element_mass_attenuation("Pb", [87.9, 88.1])
    assert above / below > 3.5


def test_energy_outside_table_raises() -> None:
    with pytest.raises(ValueError, match="outside"):
        element_mass_attenuation("Fe", [15.0])


@pytest.mark.parametrize(("name", "zeff"), [
    ("water", 7.42), ("polyethylene", 5.44), ("aluminium", 13.0), ("iron", 26.0),
    ("lead", 82.0),
])
def test_power_law_zeff(name: str, zeff: float) -> None:
    assert get_material(name).zeff == pytest.approx(zeff, abs=0.02)


def test_formula_builds_mass_fractions() -> None:
    water = from_formula("w", {"H": 2, "O": 1}, 1.0, "test")
    assert dict(water.composition)["H"] == pytest.approx(0.1119, abs=1e-4)


def test_material_validation() -> None:
    with pytest.raises(ValueError, match="sum"):
        Material("bad", (("H", 0.5),), 1.0, "test")
    with pytest.raises(ValueError, match="unknown element"):
        Material("bad", (("Xx", 1.0),), 1.0, "test")
    with pytest.raises(ValueError, match="unknown material"):
        get_material("unobtainium")


def test_every_material_has_positive_attenuation_over_the_table() -> None:
    e = np.geomspace(20.0, 10000.0, 30)
    for m in MATERIALS.values():
        mu = m.mass_attenuation(e)
        assert (mu > 0).all() and np.isfinite(mu).all(), m.name


def _slab(name: str, thickness_cm: float, size: int = 2) -> MaterialStack:
    m = get_material(name)
    return MaterialStack((m,), np.full((1, size, size), m.density * thickness_cm, np.float32))


def test_monochromatic_beer_lambert_is_exact() -> None:
    spec = two_effective_energies(60.0, 100.0)
    low, high = simulate_dual_energy(_slab("water", 10.0), spec, detector=None)
    assert float(low[0, 0]) == pytest.approx(math.exp(-0.2059 * 10.0), rel=2e-3)
    assert float(high[0, 0]) == pytest.approx(math.exp(-0.1707 * 10.0), rel=2e-3)


def test_polychromatic_beam_hardening() -> None:
    # effective attenuation per cm falls with thickness (soft photons are removed first)
    spec = dual_layer_160kv()
    mu_eff = []
    for t in (1.0, 10.0):
        _, high = simulate_dual_energy(_slab("water", t), spec, detector=None)
        mu_eff.append(-math.log(float(high[0, 0])) / t)
    assert mu_eff[1] < mu_eff[0]
    assert spec.mean_energy_low < spec.mean_energy_high


def test_spectra_weights_are_normalised() -> None:
    for spec in (dual_layer_160kv(), two_effective_energies(), linac_dual_energy()):
        assert spec.weights_low.sum() == pytest.approx(1.0)
        assert spec.weights_high.sum() == pytest.approx(1.0)
    assert dual_layer_160kv() is dual_layer_160kv()  # presets are cached singletons
    with pytest.raises(ValueError):
        two_effective_energies(100.0, 60.0)


def test_detector_noise_is_seeded_and_has_quantum_variance() -> None:
    stack = _slab("water", 5.0, size=200)
    det = DetectorModel(photons_low=1e4, photons_high=1e4, electronic_sigma=0.0,
                        blur_sigma_px=0.0)
    a = simulate_dual_energy(stack, dual_layer_160kv(), det, np.random.default_rng(3))
    b = simulate_dual_energy(stack, dual_layer_160kv(), det, np.random.default_rng(3))
    assert np.array_equal(a[0], b[0])
    ideal, _ = simulate_dual_energy(stack, dual_layer_160kv(), None)
    t = float(ideal[0, 0])
    assert float(a[0].std()) == pytest.approx(math.sqrt(t / 1e4), rel=0.1)


@pytest.mark.parametrize("scheme", ["linear", "log"])
def test_raw16_round_trip(scheme: RawScheme) -> None:
    t = np.geomspace(1e-4, 1.0, 1000).astype(np.float32).reshape(10, 100)
    back = decode_raw16(encode_raw16(t, scheme), scheme)
    if scheme == "linear":
        assert np.abs(back - t).max() < 2e-5
    else:
        assert np.abs(np.log(back) - np.log(t)).max() < 2e-4


def test_raw16_rejects_wrong_dtype_and_scheme() -> None:
    with pytest.raises(ValueError, match="uint16"):
        decode_raw16(cast(Any, np.zeros((2, 2), np.uint8)))
    with pytest.raises(ValueError, match="scheme"):
        encode_raw16(np.ones((2, 2), np.float32), cast(Any, "gamma"))


@pytest.mark.parametrize(("array", "message"), [
    (np.ones((2, 3, 3), np.float64), "float32"),
    (np.ones((3, 3), np.float32), "3-D"),
    (np.full((1, 3, 3), -1.0, np.float32), ">= 0"),
    (np.ones((2, 3, 3), np.float32), "2 maps for 1 materials"),
])
def test_material_stack_validation(array: NDArray[Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MaterialStack((get_material("water"),), array)
