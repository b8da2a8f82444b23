"""Constant-velocity Kalman filter on boxes, in ByteTrack's ``(cx, cy, a, h)`` parametrisation.

State ``x``: ``float64 [8]`` = centre x, centre y (pixels), aspect ratio ``a = w / h``, height
``h`` (pixels) and their velocities per *second* (ByteTrack uses per frame; seconds keep the
filter right when frames are dropped). Noise scales with the box height, as in ByteTrack/SORT.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Vec = npt.NDArray[np.float64]
Mat = npt.NDArray[np.float64]

_STD_POS = 1.0 / 20.0
_STD_VEL = 1.0 / 160.0


def xyxy_to_xyah(b: Vec) -> Vec:
    w, h = b[2] - b[0], b[3] - b[1]
    out: Vec = np.array([b[0] + w / 2.0, b[1] + h / 2.0, w / h, h], np.float64)
    return out


def xyah_to_xyxy(m: Vec) -> Vec:
    h = max(float(m[3]), 1e-3)
    w = max(float(m[2]), 1e-3) * h
    out: Vec = np.array([m[0] - w / 2, m[1] - h / 2, m[0] + w / 2, m[1] + h / 2], np.float64)
    return out


class BoxKalman:
    """One track's filter. ``predict(dt)`` then ``update(box)`` per frame; ``dt`` in seconds
    normalised by ``frame_dt`` so tuned noise levels stay those of ByteTrack at its frame rate."""

    def __init__(self, box_xyxy: Vec, frame_dt: float = 0.1) -> None:
        if frame_dt <= 0:
            raise ValueError(f"frame_dt must be > 0 seconds, got {frame_dt}")
        m = xyxy_to_xyah(box_xyxy)
        self.mean: Vec = np.concatenate([m, np.zeros(4)])
        h = m[3]
        v = 10 * _STD_VEL * h / frame_dt  # ByteTrack's per-frame std, in pixels per second
        std = [2 * _STD_POS * h, 2 * _STD_POS * h, 1e-2, 2 * _STD_POS * h, v, v, 1e-5, v]
        self.cov: Mat = np.diag(np.square(std)).astype(np.float64)
        self.frame_dt = frame_dt

    def predict(self, dt: float) -> None:
        """Advance by ``dt`` seconds (``dt >= 0``)."""
        steps = max(dt / self.frame_dt, 0.0)
        f = np.eye(8)
        for i in range(4):
            f[i, 4 + i] = dt
        h = self.mean[3]
        v = _STD_VEL * h / self.frame_dt
        std = [_STD_POS * h, _STD_POS * h, 1e-2, _STD_POS * h, v, v, 1e-5, v]
        q = np.diag(np.square(std)) * max(steps, 1e-3)
        self.mean = f @ self.mean
        self.cov = f @ self.cov @ f.T + q

    def update(self, box_xyxy: Vec) -> None:
        z = xyxy_to_xyah(box_xyxy)
        h = self.mean[3]
        r = np.diag(np.square([_STD_POS * h, _STD_POS * h, 1e-1, _STD_POS * h]))
        hm = np.eye(4, 8)
        s = hm @ self.cov @ hm.T + r
        k = np.linalg.solve(s, hm @ self.cov).T  # cov H^T S^-1 (S symmetric)
        self.mean = self.mean + k @ (z - hm @ self.mean)
        self.cov = (np.eye(8) - k @ hm) @ self.cov

    def warp(self, m: npt.NDArray[np.float64]) -> None:
        """Apply camera motion ``m`` (``[2, 3]`` affine, previous -> current frame) to the state
        so that predictions follow the scene, as BoT-SORT's camera motion compensation does."""
        a = m[:, :2]
        scale = float(np.sqrt(abs(np.linalg.det(a))))
        self.mean[:2] = a @ self.mean[:2] + m[:, 2]
        self.mean[4:6] = a @ self.mean[4:6]
        self.mean[3] *= scale
        self.mean[7] *= scale
        rot = np.eye(8)
        rot[:2, :2] = a
        rot[4:6, 4:6] = a
        self.cov = rot @ self.cov @ rot.T

    def box(self) -> Vec:
        return xyah_to_xyxy(self.mean[:4])

    def velocity(self) -> tuple[float, float]:
        """Centre velocity in pixels per second."""
        return float(self.mean[4]), float(self.mean[5])
