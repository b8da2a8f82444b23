"""Augmentations that respect X-ray physics.

What a scanner can produce, and nothing else:

* **geometry**: flips and 90-degree turns (bags lie any way on the belt), scale and shift
  (bag size, belt position; border filled white = air);
* **attenuation** (:func:`attenuation_jitter`): on the raw dual-energy pair, every path
  length is scaled by one factor k (the same materials, k times thicker or thinner) and the
  pseudo-colour is rendered again - Zeff, hence the material colour, is kept while
  brightness follows Beer-Lambert;
* **display and detector**: brightness, contrast and gamma applied equally to all channels,
  mild saturation change (vendor displays differ), Gaussian noise, blur, JPEG compression
  (the real samples are JPEGs);
* **occlusion**: dark rectangles (a dense object lying over part of the bag);
* **threat image projection**: :mod:`training.xray.tip`.

Never used: hue shifts, channel shuffles or colour inversion - they would turn organic
orange into metal blue and teach the model wrong material physics.
"""

from __future__ import annotations

import albumentations as A
import cv2
import numpy as np
import numpy.typing as npt

from vision.xray.render import pseudo_colour
from vision.xray.spectra import dual_layer_160kv
from vision.xray.transmission import validate_pair
from vision.xray.zeff import calibrate, zeff_map

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]


def attenuation_jitter(low: F32, high: F32, k: float) -> U8:
    """Pseudo-colour of :func:`scale_path_length` (``k`` times thicker or thinner)."""
    lo, hi = scale_path_length(low, high, k)
    return pseudo_colour(lo, hi, dual_layer_160kv())


def scale_path_length(low: F32, high: F32, k: float) -> tuple[F32, F32]:
    """The dual-energy pair with every path length scaled by ``k``.

    Raising transmissions to a power (T -> T**k) would be exact only for a monochromatic
    beam: with the polychromatic tube spectrum, beam hardening would move the estimated Zeff
    (iron drifts from 26 to 16 at k = 0.6). Instead each pixel keeps its Zeff: A_H' = k * A_H
    and the low/high ratio R' is read back from the Zeff calibration table at A_H' (the
    inverse of :func:`vision.xray.zeff.zeff_map`), so A_L' = R' * A_H'.
    """
    if not 0.1 <= k <= 10.0:
        raise ValueError(f"attenuation factor must be in [0.1, 10], got {k}")
    spec = dual_layer_160kv()
    cal = calibrate(spec)
    lo, hi = validate_pair(low, high)
    z = zeff_map(lo, hi, spec)
    a_high = -np.log(hi)
    a_low = -np.log(lo)
    a_new = np.clip(a_high * np.float32(k), 0.0, cal.a_max * 0.999).astype(np.float32)
    ratio = a_low / np.maximum(a_high, np.float32(1e-6))
    n_rows, n_cols = cal.table.shape
    row = np.rint(np.sqrt(a_new / np.float32(cal.a_max)) * (n_rows - 1)).astype(np.int32)
    cols = np.linspace(cal.r_min, cal.r_max, n_cols, dtype=np.float32)
    fg = z > 0
    for r in np.unique(row[fg]):
        sel = fg & (row == r)
        zrow = np.maximum.accumulate(cal.table[r])  # Zeff rises with R; keep it monotonic
        ratio[sel] = np.interp(z[sel], zrow, cols)
    low2 = np.exp(-ratio * a_new).astype(np.float32)
    high2 = np.exp(-a_new).astype(np.float32)
    floor = np.float32(1e-6)
    return np.maximum(low2, floor), np.maximum(high2, floor)


def train_transform(strength: float = 1.0) -> A.Compose:
    """Albumentations pipeline for training images already letterboxed to the model size.

    ``strength`` in [0, 1] scales the probabilities (0 = geometry only; used by tests).
    Boxes are pascal_voc (xyxy pixels) with a ``labels`` field.
    """
    if not 0.0 <= strength <= 1.0:
        raise ValueError("strength must be in [0, 1]")
    s = strength
    return A.Compose(
        [
            A.HorizontalFlip(p=0.5),
            A.VerticalFlip(p=0.5),
            A.RandomRotate90(p=0.5),
            A.Affine(scale=(0.7, 1.2), translate_percent=(-0.1, 0.1), rotate=0.0,
                     border_mode=cv2.BORDER_CONSTANT, fill=255, p=0.6),
            A.RandomBrightnessContrast(brightness_limit=0.15, contrast_limit=0.2, p=0.5 * s),
            A.RandomGamma(gamma_limit=(75, 130), p=0.4 * s),
            A.ColorJitter(brightness=0.0, contrast=0.0, saturation=(0.6, 1.4), hue=0.0,
                          p=0.4 * s),
            A.GaussNoise(std_range=(0.01, 0.05), p=0.3 * s),
            A.GaussianBlur(sigma_limit=(0.3, 1.2), p=0.2 * s),
            A.ImageCompression(quality_range=(40, 95), p=0.4 * s),
            A.CoarseDropout(num_holes_range=(1, 3), hole_height_range=(0.05, 0.15),
                            hole_width_range=(0.05, 0.15), fill=(40, 60, 90), p=0.2 * s),
        ],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"],
                                 min_visibility=0.35, clip=True, filter_invalid_bboxes=True),
    )
