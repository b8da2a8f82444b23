"""5-point face alignment to the chip the dlib ResNet embedder was trained on.

Same geometry as ``dlib.get_face_chip_details(shape, size=150, padding=0.25)``: a similarity
transform (rotation, uniform scale, translation; Umeyama least squares) takes dlib's canonical
5-point template into the detected landmarks, and the chip is sampled through it with bilinear
interpolation. When the face is larger than the chip the region is first reduced with area
averaging (dlib uses an image pyramid for the same reason: avoid aliasing).

Chips are RGB ``uint8 [size, size, 3]``; pixels outside the source image are black, as in dlib.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

CHIP_SIZE = 150
CHIP_PADDING = 0.25

# dlib's 5-point template in [0, 1] (dlib/image_transforms/interpolation.h), before padding.
_TEMPLATE_5 = np.array(
    [
        [0.8595674595992, 0.2134981538014],
        [0.6460604764104, 0.2289674387677],
        [0.1205750620789, 0.2137274526848],
        [0.3340850613712, 0.2290642403242],
        [0.4901123135679, 0.6277975316475],
    ],
    dtype=np.float64,
)


def chip_template(size: int = CHIP_SIZE, padding: float = CHIP_PADDING) -> npt.NDArray[np.float64]:
    """Where the 5 landmarks land in a ``size`` x ``size`` chip: float64 ``[5, 2]`` pixels."""
    if size < 8:
        raise ValueError(f"chip size must be >= 8, got {size}")
    if not 0.0 <= padding <= 2.0:
        raise ValueError(f"padding must be in [0, 2], got {padding}")
    out: npt.NDArray[np.float64] = (padding + _TEMPLATE_5) / (2 * padding + 1) * size
    return out


def similarity_transform(
    src: npt.NDArray[np.floating[Any]], dst: npt.NDArray[np.floating[Any]]
) -> npt.NDArray[np.float64]:
    """Least-squares similarity ``dst ~ s R src + t`` (Umeyama 1991); returns the 2x3 matrix.

    ``src`` and ``dst`` are ``[K, 2]`` point sets, K >= 2, not all coincident.
    """
    a = np.asarray(src, dtype=np.float64)
    b = np.asarray(dst, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 2 or a.shape != b.shape or a.shape[0] < 2:
        raise ValueError(f"need two [K, 2] point sets with K >= 2, got {a.shape} and {b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("points must be finite")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    da, db = a - mu_a, b - mu_b
    var_a = float((da**2).sum() / len(a))
    if var_a <= 1e-12:
        raise ValueError("source points coincide; no similarity transform exists")
    cov = db.T @ da / len(a)
    u, d, vt = np.linalg.svd(cov)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1.0  # no reflections
    rot = u @ sign @ vt
    scale = float(np.trace(np.diag(d) @ sign) / var_a)
    m = np.empty((2, 3), dtype=np.float64)
    m[:, :2] = scale * rot
    m[:, 2] = mu_b - scale * rot @ mu_a
    return m


def chip_to_image_transform(
    landmarks: npt.NDArray[np.floating[Any]], size: int = CHIP_SIZE, padding: float = CHIP_PADDING
) -> npt.NDArray[np.float64]:
    """2x3 matrix mapping chip pixel coordinates to image pixel coordinates for one face whose
    5 landmarks (``[5, 2]``, dlib order) are given in image pixels.

    Reproduces dlib's ``chip_details`` rounding: the fitted similarity only fixes the chip's
    centre, angle and scale; the chip's corner pixels ``0`` and ``size - 1`` then map onto the
    corners of a ``size * scale - 1`` wide square centred there (half a pixel matters: it moves
    the embedding by ~0.07, a tenth of the decision threshold).
    """
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.shape != (5, 2):
        raise ValueError(f"landmarks must be [5, 2], got {pts.shape}")
    fit = similarity_transform(chip_template(size, padding), pts)
    scale = math.hypot(fit[0, 0], fit[1, 0])
    angle = math.atan2(fit[1, 0], fit[0, 0])
    centre = fit[:, :2] @ np.array([size / 2.0, size / 2.0]) + fit[:, 2]
    step = (size * scale - 1.0) / (size - 1)  # image pixels per chip pixel
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    m = np.empty((2, 3), dtype=np.float64)
    m[:, :2] = rot * step
    m[:, 2] = centre - m[:, :2] @ np.array([(size - 1) / 2.0, (size - 1) / 2.0])
    return m


def _compose(outer: npt.NDArray[np.float64], inner: npt.NDArray[np.float64]) -> npt.NDArray[
        np.float64]:
    """2x3 ``outer o inner``."""
    a = np.vstack([outer, [0.0, 0.0, 1.0]])
    b = np.vstack([inner, [0.0, 0.0, 1.0]])
    out: npt.NDArray[np.float64] = (a @ b)[:2]
    return out


_PYR_KERNEL = np.array([1, 4, 6, 4, 1], dtype=np.float32) / np.float32(16.0)
# dlib's pyramid_down<2>::point_up reads level pixel (x, y) as source (2x + 2.5, 2y + 1.5);
# the filtered samples really sit at 2x + 2, but dlib's chip code uses point_up, and so do we,
# because the embedder was trained on chips cut that way. This is its inverse.
_SOURCE_TO_LEVEL = np.array([[0.5, 0.0, -1.25], [0.0, 0.5, -0.75]])


def _pyramid_down(image: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """dlib ``pyramid_down<2>`` on a float image: 5-tap [1 4 6 4 1]/16 blur, every second
    sample from index 2, ``(n - 3) // 2`` samples per axis, truncated like dlib's rgb pixels."""
    h, w = image.shape[:2]
    blurred = cv2.sepFilter2D(image, -1, _PYR_KERNEL, _PYR_KERNEL,
                              borderType=cv2.BORDER_REFLECT)
    out: npt.NDArray[np.float32] = np.floor(blurred[2::2, 2::2][:(h - 3) // 2, :(w - 3) // 2])
    return out


def _pyramid_levels(size: int, scale: float) -> int:
    """How many halvings dlib applies before sampling (its ``rect_down(rect).area()`` test)."""
    width = size * scale
    levels = 0
    while (width / 2.0) ** 2 > size * size:
        width /= 2.0
        levels += 1
    return levels


def extract_chip(
    image: npt.NDArray[np.uint8], landmarks: npt.NDArray[np.floating[Any]],
    size: int = CHIP_SIZE, padding: float = CHIP_PADDING,
) -> npt.NDArray[np.uint8]:
    """Aligned face chip, RGB ``uint8 [size, size, 3]``, from an RGB ``uint8 [H, W, 3]`` image.

    Matches ``dlib.get_face_chip`` to within ~0.6 grey levels per pixel (embedding distance
    ~0.01); only the region around the face is filtered, so cost does not grow with the image.
    """
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be uint8 [H, W, 3], got {image.dtype} {image.shape}")
    m = chip_to_image_transform(landmarks, size, padding)
    levels = _pyramid_levels(size, math.hypot(m[0, 0], m[1, 0]))
    corners = np.array([[0, 0, 1], [size - 1, 0, 1], [0, size - 1, 1], [size - 1, size - 1, 1]],
                       dtype=np.float64) @ m.T
    # Crop the chip's footprint plus the filter reach; keep the origin aligned to 2**levels so
    # the pyramid samples the same source pixels as on the whole image.
    align = 2**levels
    margin = 6 * align + 2
    h, w = image.shape[:2]
    x0 = max(0, int(math.floor(corners[:, 0].min())) - margin) // align * align
    y0 = max(0, int(math.floor(corners[:, 1].min())) - margin) // align * align
    x1 = min(w, int(math.ceil(corners[:, 0].max())) + margin)
    y1 = min(h, int(math.ceil(corners[:, 1].max())) + margin)
    if x1 - x0 < 4 * align or y1 - y0 < 4 * align:
        return np.zeros((size, size, 3), dtype=np.uint8)  # face (almost) entirely outside
    region = image[y0:y1, x0:x1].astype(np.float32)
    m = _compose(np.array([[1.0, 0.0, -x0], [0.0, 1.0, -y0]]), m)
    for _ in range(levels):
        region = _pyramid_down(region)
        m = _compose(_SOURCE_TO_LEVEL, m)
    if min(region.shape[:2]) < 2:
        return np.zeros((size, size, 3), dtype=np.uint8)
    chip = cv2.warpAffine(
        region, m, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT, borderValue=(0.0, 0.0, 0.0),
    )
    out: npt.NDArray[np.uint8] = np.clip(np.floor(chip), 0, 255).astype(np.uint8)
    return out


def extract_chips(
    image: npt.NDArray[np.uint8], landmarks: npt.NDArray[np.floating[Any]] | Sequence[
        npt.NDArray[np.floating[Any]]],
    size: int = CHIP_SIZE, padding: float = CHIP_PADDING,
) -> npt.NDArray[np.uint8]:
    """Chips for every face: ``landmarks`` ``[N, 5, 2]`` -> RGB ``uint8 [N, size, size, 3]``."""
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.ndim != 3 or pts.shape[1:] != (5, 2):
        raise ValueError(f"landmarks must be [N, 5, 2], got {pts.shape}")
    out = np.zeros((pts.shape[0], size, size, 3), dtype=np.uint8)
    for i in range(pts.shape[0]):
        out[i] = extract_chip(image, pts[i], size, padding)
    return out
