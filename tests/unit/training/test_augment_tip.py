"""Physics-respecting augmentations and threat image projection."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from training.xray.augment import attenuation_jitter, scale_path_length, train_transform
from training.xray.tip import paste, render_sprite
from vision.xray.render import pseudo_colour
from vision.xray.spectra import dual_layer_160kv
from vision.xray.zeff import material_classes, zeff_map


def _pair() -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Three flat slabs: organic, aluminium-like, steel-like transmissions."""
    from vision.xray.materials import get_material
    from vision.xray.transmission import MaterialStack, simulate_dual_energy

    mats = tuple(get_material(n) for n in ("polyethylene", "aluminium", "iron"))
    stack = np.zeros((3, 30, 90), np.float32)
    stack[0, :, 0:30] = 8.0
    stack[1, :, 30:60] = 3.0
    stack[2, :, 60:90] = 4.0
    return simulate_dual_energy(MaterialStack(mats, stack), dual_layer_160kv(), None)


@pytest.mark.parametrize("k", [0.6, 1.0, 1.6])
def test_attenuation_jitter_keeps_material_classes(k: float) -> None:
    low, high = _pair()
    spec = dual_layer_160kv()
    z0 = zeff_map(low, high, spec)
    lo2, hi2 = scale_path_length(low, high, k)
    z1 = zeff_map(lo2, hi2, spec)
    assert np.abs(z1 - z0).max() < 1.0  # same materials, hence the same colours' hue family
    assert (material_classes(z0, high) == material_classes(z1, hi2)).mean() > 0.98
    np.testing.assert_allclose(-np.log(hi2), -np.log(high) * k, rtol=1e-3)
    rgb = attenuation_jitter(low, high, k)
    assert rgb.shape == (30, 90, 3) and rgb.dtype == np.uint8
    if k != 1.0:  # brighter when thinner, darker when thicker
        base = pseudo_colour(low, high).astype(float).mean()
        assert (rgb.astype(float).mean() > base) == (k < 1.0)


def test_photometric_augmentations_keep_hue() -> None:
    low, high = _pair()
    img = pseudo_colour(low, high)
    canvas = np.full((96, 96, 3), 255, np.uint8)
    canvas[30:60, 3:93] = img
    hue0 = cv2.cvtColor(canvas, cv2.COLOR_RGB2HSV)[..., 0].astype(int)
    tf = train_transform(1.0)
    for seed in range(12):
        tf.set_random_seed(seed)
        out = tf(image=canvas, bboxes=np.array([[3, 30, 93, 60]], np.float32),
                 labels=np.array([0]))
        img2 = out["image"]
        # undo the geometry by comparing hue histograms of saturated pixels
        def hues(x: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
            hsv = cv2.cvtColor(x, cv2.COLOR_RGB2HSV)
            sat = (hsv[..., 1] > 80) & (hsv[..., 2] > 60)
            counts = np.bincount(hsv[..., 0][sat] // 20, minlength=9).astype(np.float64)
            return counts / max(int(sat.sum()), 1)
        assert np.abs(hues(img2) - hues(canvas)).sum() < 0.35, seed
    assert hue0.shape == (96, 96)


def test_tip_sprite_and_paste() -> None:
    rng = np.random.default_rng(0)
    sp = render_sprite("handgun", rng, 75 / 320)
    assert sp is not None and sp.label == "handgun"
    assert sp.rgb.min() < 150  # a steel gun darkens the beam
    bg = np.full((200, 200, 3), 200, np.uint8)
    done = paste(bg, sp.rgb, 20, 30)
    assert done is not None
    out, box = done
    h, w = sp.rgb.shape[:2]
    assert box == (20.0, 30.0, float(min(20 + w, 200)), float(min(30 + h, 200)))
    assert (out <= bg).all()  # transmission only ever multiplies down
    white = np.full((10, 10, 3), 255, np.uint8)
    same, _ = paste(bg, white, 0, 0)  # type: ignore[misc]
    assert (same == bg).all()
    assert paste(bg, sp.rgb, 190, 190) is None  # mostly outside
    with pytest.raises(ValueError):
        render_sprite("teapot", rng, 0.2)
