from __future__ import annotations

import numpy as np
import pytest

from tests.unit.video.factories import texture
from vision.video.lighting import LowLightEnhancer, estimate_gain, is_low_light, mean_luma


def test_enhancer_brightens_dark_frames_and_keeps_bright_ones() -> None:
    bright = texture(seed=1)
    dark = (bright.astype(np.float32) * 0.15).astype(np.uint8)
    enh = LowLightEnhancer(threshold=60)
    assert is_low_light(dark) and not is_low_light(bright)
    out = enh(dark)
    assert out.shape == dark.shape and out.dtype == np.uint8
    assert mean_luma(out) > 2.0 * mean_luma(dark)
    # local contrast (std of luma) grows too: the point is to separate people from shadow
    assert out.astype(np.float32).std() > 2.0 * dark.astype(np.float32).std()
    assert enh(bright) is bright


def test_enhancer_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="BGR"):
        LowLightEnhancer()(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="gamma"):
        LowLightEnhancer(gamma=2.0)


def test_gain_is_robust_to_a_large_foreground_object() -> None:
    bg = texture(seed=2)[:, :, 0].astype(np.float32)
    frame = bg * 1.5
    frame[20:70, 30:100] = 5.0  # dark object over ~18% of the frame
    assert estimate_gain(frame, bg) == pytest.approx(1.5, rel=0.03)
    assert estimate_gain(np.zeros_like(bg), bg) == 1.0  # nothing usable: no correction
