"""PP-OCR rec input: aspect-preserving resize to height 48, [-1, 1] scaling, zero right-padding."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from vision.ocr_rec_preprocess import REC_HEIGHT, REC_WIDTH, rec_batch, resize_normalize_rec

Array = npt.NDArray[Any]


def test_wide_crop_keeps_aspect_and_pads_with_zero() -> None:
    crop = np.full((24, 94, 3), 255, np.uint8)  # an LPRNet-sized plate crop, white
    out = resize_normalize_rec(crop)
    assert out.shape == (3, REC_HEIGHT, REC_WIDTH) and out.dtype == np.float32
    used = int(np.ceil(REC_HEIGHT * 94 / 24))  # 188 columns
    np.testing.assert_allclose(out[:, :, :used], 1.0)
    np.testing.assert_array_equal(out[:, :, used:], 0.0)


def test_value_mapping_is_paddle_normalisation() -> None:
    crop = np.zeros((48, 48, 3), np.uint8)
    crop[:, :, 0] = 0
    crop[:, :, 1] = 51
    crop[:, :, 2] = 255
    out = resize_normalize_rec(crop, width=48)
    # channel order is kept (BGR in, BGR out); (v / 255 - 0.5) / 0.5
    np.testing.assert_allclose(out[:, 0, 0], [-1.0, -0.6, 1.0], atol=1e-6)


def test_too_wide_crop_is_squeezed_to_width() -> None:
    out = resize_normalize_rec(np.full((10, 500, 3), 128, np.uint8), width=64)
    assert out.shape == (3, 48, 64)
    assert np.all(out != 0)  # no padding left


def test_grey_input_is_replicated_to_three_channels() -> None:
    grey = np.arange(48 * 96, dtype=np.uint32).reshape(48, 96).astype(np.uint8)
    out = resize_normalize_rec(grey, width=96)
    np.testing.assert_array_equal(out[0], out[1])
    np.testing.assert_array_equal(out[1], out[2])


def test_batch_stacks() -> None:
    crops = [np.zeros((20, 60, 3), np.uint8), np.zeros((30, 40), np.uint8)]
    assert rec_batch(crops).shape == (2, 3, REC_HEIGHT, REC_WIDTH)


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((10, 10, 3), np.float32),
        np.zeros((10, 10, 4), np.uint8),
        np.zeros((0, 10, 3), np.uint8),
        np.zeros((10,), np.uint8),
    ],
)

def test_bad_images_raise(image: Array) -> None:
    with pytest.raises(ValueError):
        resize_normalize_rec(image)


def test_empty_batch_raises() -> None:
    with pytest.raises(ValueError):
        rec_batch([])
