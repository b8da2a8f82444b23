"""Augmentations that respect X-ray physics.

What a scanner can produce, and nothing else:

* **geometry**: flips and 90-degree turns (bags lie any way on the belt), scale and shift
  (bag size, belt position; border filled white = air);
* **attenuation** (:func:`attenuation_jitter`): on the raw dual-energy pair, A_L and A_H are
  multiplied by one factor k (the same materials, k times thicker or thinner) and the
  pseudo-colour is rendered again - Zeff, hence the material colour, is unchanged while
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

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]


def attenuation_jitter(low: F32, high: F32, k: float) -> U8:
    """Pseudo-colour of the pair with every path length scaled by ``k`` (T -> T**k)."""
    if not 0.1 <= k <= 10.0:
        raise ValueError(f"attenuation factor must be in [0.1, 10], got {k}")
    lo = np.power(np.clip(low, 1e-6, 1.0), np.float32(k)).astype(np.float32)
    hi = np.power(np.clip(high, 1e-6, 1.0), np.float32(k)).astype(np.float32)
    return pseudo_colour(np.maximum(lo, np.float32(1e-6)), np.maximum(hi, np.float32(1e-6)))


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
