"""Ego-motion of a moving camera between consecutive frames, as a 2x3 affine matrix.

Patrol robots and drones move, so everything in the frame moves. Sparse corners tracked with
pyramidal Lucas-Kanade and a RANSAC fit of a similarity transform (rotation, uniform scale,
translation) give the motion of the dominant plane (the ground and the buildings far away);
moving people are outliers to that fit. The background model is then warped by this matrix so
that only independent motion remains as foreground.

The matrix ``M`` maps a pixel ``(x, y)`` of the previous frame to ``M @ [x, y, 1]`` in the
current frame (the convention of ``cv2.warpAffine``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

Affine = npt.NDArray[np.float64]  # [2, 3]
U8Image = npt.NDArray[np.uint8]


def identity() -> Affine:
    return np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], np.float64)


def compose(second: Affine, first: Affine) -> Affine:
    """The affine that applies ``first`` then ``second`` (both ``[2, 3]``)."""
    a = np.vstack([first, [0.0, 0.0, 1.0]])
    b = np.vstack([second, [0.0, 0.0, 1.0]])
    out: Affine = (b @ a)[:2]
    return out


def transform_points(m: Affine, pts: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Apply ``m`` (``[2, 3]``) to points ``float [N, 2]``."""
    out: npt.NDArray[np.float64] = pts @ m[:, :2].T + m[:, 2]
    return out


@dataclass(frozen=True)
class MotionEstimate:
    """``matrix``: previous -> current frame; ``inliers``/``tracked``: RANSAC support, for
    judging reliability; ``ok`` is False when too few corners supported a fit (then the matrix
    is the identity)."""

    matrix: Affine
    inliers: int
    tracked: int
    ok: bool


class EgoMotionEstimator:
    """Stateful estimator: feed grey ``uint8 [H, W]`` frames in order, get prev -> current.

    ``max_corners`` Shi-Tomasi corners are re-detected on every frame (cheap at working
    resolution and robust to the scene scrolling out of view).
    """

    def __init__(self, max_corners: int = 300, min_inliers: int = 12,
                 ransac_px: float = 2.0) -> None:
        if max_corners < 10 or min_inliers < 3:
            raise ValueError("max_corners must be >= 10 and min_inliers >= 3")
        self.max_corners = max_corners
        self.min_inliers = min_inliers
        self.ransac_px = ransac_px
        self._prev: U8Image | None = None
        self._prev_pts: npt.NDArray[np.float32] | None = None

    def reset(self) -> None:
        self._prev = None
        self._prev_pts = None

    def _corners(self, grey: U8Image) -> npt.NDArray[np.float32] | None:
        pts = cv2.goodFeaturesToTrack(grey, maxCorners=self.max_corners, qualityLevel=0.01,
                                      minDistance=7, blockSize=7)
        if pts is None:
            return None
        out: npt.NDArray[np.float32] = pts.astype(np.float32)
        return out

    def update(self, grey: U8Image) -> MotionEstimate:
        """Motion from the previous frame to ``grey``; identity (``ok=False``) on the first
        frame, after a size change, or when tracking fails."""
        if grey.ndim != 2 or grey.dtype != np.uint8:
            raise ValueError(f"expected grey uint8 [H, W], got {grey.dtype} {grey.shape}")
        prev, prev_pts = self._prev, self._prev_pts
        self._prev = grey
        self._prev_pts = self._corners(grey)
        if prev is None or prev.shape != grey.shape or prev_pts is None or len(prev_pts) < 3:
            return MotionEstimate(identity(), 0, 0, False)
        nxt, status, _ = cv2.calcOpticalFlowPyrLK(  # type: ignore[call-overload]
            prev, grey, prev_pts, None, winSize=(21, 21), maxLevel=3)
        good = status.reshape(-1) == 1
        src = prev_pts.reshape(-1, 2)[good]
        dst = nxt.reshape(-1, 2)[good]
        if len(src) < self.min_inliers:
            return MotionEstimate(identity(), 0, int(len(src)), False)
        m, inl = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC,
                                             ransacReprojThreshold=self.ransac_px,
                                             maxIters=500, confidence=0.99)
        n_in = int(inl.sum()) if inl is not None else 0
        if m is None or n_in < self.min_inliers:
            return MotionEstimate(identity(), n_in, int(len(src)), False)
        return MotionEstimate(m.astype(np.float64), n_in, int(len(src)), True)
