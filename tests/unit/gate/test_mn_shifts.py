"""Test-time shifts of the Mongolian plate recogniser input (vision.plates.mn_rec)."""

from __future__ import annotations

import numpy as np
import pytest

from vision.plates.mn_rec import MN_TTA_SHIFTS, mn_merge_shifts, mn_shifted


def test_shifted_copies_are_grouped_per_line_and_rolled() -> None:
    rng = np.random.default_rng(0)
    batch = rng.normal(size=(2, 1, 32, 128)).astype(np.float32)
    out = mn_shifted(batch)
    k = len(MN_TTA_SHIFTS)
    assert out.shape == (2 * k, 1, 32, 128) and out.dtype == np.float32
    for i in range(2):
        assert np.array_equal(out[i * k], batch[i])  # the first copy is the line itself
        for j, (dy, dx) in enumerate(MN_TTA_SHIFTS):
            assert np.array_equal(out[i * k + j], np.roll(batch[i], (dy, dx), axis=(1, 2)))
    assert not np.array_equal(out[1], out[0])


def test_merge_averages_each_lines_copies() -> None:
    k = len(MN_TTA_SHIFTS)
    probs = np.zeros((2 * k, 3, 4), np.float32)
    probs[:k, :, 1] = 1.0  # line 0: every copy says class 1
    probs[k:, :, 2] = 1.0
    probs[k, :, 2], probs[k, :, 3] = 0.0, 1.0  # line 1: one of its copies says class 3
    merged = mn_merge_shifts(probs)
    assert merged.shape == (2, 3, 4)
    assert np.allclose(merged.sum(axis=-1), 1.0)
    assert np.allclose(merged[0, :, 1], 1.0)
    assert np.allclose(merged[1, :, 2], (k - 1) / k) and np.allclose(merged[1, :, 3], 1 / k)


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="N, 1, H, W"):
        mn_shifted(np.zeros((32, 128), np.float32))
    with pytest.raises(ValueError, match="multiple"):
        mn_merge_shifts(np.zeros((7, 32, 42), np.float32))
