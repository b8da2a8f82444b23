"""Liveness cues: spectral peaks, planar vs 3-D landmark motion, decisions; one real face and
its simulated screen replay end to end."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from pipelines.faces.analyze import FaceAnalyzer, FaceInputError
from pipelines.faces.liveness import LivenessChecker
from pipelines.faces.liveness_eval import _jpeg, simulate_print, simulate_screen
from vision.faces.decode import decode_rgb
from vision.faces.liveness import (
    LivenessThresholds,
    MotionCue,
    SpectralCues,
    decide,
    face_patch,
    motion_cue,
    spectral_cues,
)


def _smooth(n: int = 128) -> np.ndarray:
    yy, xx = np.mgrid[:n, :n]
    rng = np.random.default_rng(0)
    img = 128 + 60 * np.exp(-((xx - 64) ** 2 + (yy - 60) ** 2) / 900.0) + rng.normal(0, 3, (n, n))
    return np.clip(img, 0, 255).astype(np.uint8)


def test_a_periodic_grid_raises_the_spectral_peak() -> None:
    plain = _smooth()
    xx = np.arange(128)[None, :]
    grid = np.clip(plain + 25 * np.cos(2 * math.pi * xx / 4.0), 0, 255).astype(np.uint8)
    a, b = spectral_cues(plain), spectral_cues(grid)
    assert a.peak_excess < 2.6 < b.peak_excess
    with pytest.raises(ValueError):
        spectral_cues(plain[:, :64])


def _face3d() -> np.ndarray:
    """5 landmarks in 3-D (units: inter-ocular distance 1): eye corners at z 0, nose at -0.6."""
    return np.array([[0.9, 0, 0], [0.25, 0, 0], [-0.9, 0, 0], [-0.25, 0, 0], [0, 0.7, -0.6]])


def _project(pts: np.ndarray, yaw: float, shift: float, f: float = 200.0) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    rot = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    p = pts @ rot.T + np.array([shift, 0, f])
    return 60.0 * f * p[:, :2] / p[:, 2:3] + 300.0  # ~60 px inter-ocular


def test_turning_head_has_parallax_a_moved_photo_does_not() -> None:
    head = np.stack([_project(_face3d(), math.radians(a), 0.05 * i)
                     for i, a in enumerate(np.linspace(0, 25, 8))])
    flat = _face3d().copy()
    flat[:, 2] = 0.0  # the same face printed on paper
    photo = np.stack([_project(flat, math.radians(a), 0.05 * i)
                      for i, a in enumerate(np.linspace(0, 25, 8))])
    live, planar = motion_cue(head), motion_cue(photo)
    assert live.motion > 0.05 and planar.motion > 0.05
    assert planar.parallax < 0.01 < 0.05 < live.parallax  # far camera: the cue separates
    on = LivenessThresholds(use_motion=True)
    assert decide(None, live, on).live is True
    assert decide(None, planar, on).live is False
    still = motion_cue(np.repeat(head[:1], 4, axis=0))
    assert decide(None, still, on).live is None  # no motion: inconclusive
    assert decide(None, planar).live is None  # off by default (measured not discriminative)
    near = np.stack([_project(flat, math.radians(a), 0.05 * i, f=4.0)
                     for i, a in enumerate(np.linspace(0, 25, 8))])
    assert motion_cue(near).parallax > 0.01  # strong perspective: a plane mimics depth
    with pytest.raises(ValueError):
        motion_cue(head[:1])


def test_decision_table() -> None:
    ok = SpectralCues(peak_excess=1.5, hf_ratio=0.02)
    grid = SpectralCues(peak_excess=5.0, hf_ratio=0.02)
    assert decide(ok, None).live is True
    r = decide(grid, None)
    assert r.live is False and "moire" in r.reasons[0]
    small = MotionCue(motion=0.3, parallax=0.2, frames=5, interocular_px=12.0)
    on = LivenessThresholds(use_motion=True)
    assert decide(None, small, on).live is None  # face too small for the motion test
    strict = LivenessThresholds(min_hf_ratio=0.05)
    assert decide(ok, None, strict).live is False


def test_face_patch_windows() -> None:
    grey = _smooth(400)
    assert face_patch(grey, (50, 50, 350, 350)).shape == (128, 128)
    assert face_patch(grey, (10, 10, 60, 60)).shape == (128, 128)
    with pytest.raises(ValueError):
        face_patch(grey, (10, 10, 12, 12))


def _as_jpeg_bytes(rgb: np.ndarray) -> bytes:
    import cv2

    return cv2.imencode(".jpg", np.ascontiguousarray(_jpeg(rgb, 95)[:, :, ::-1]))[1].tobytes()


@pytest.mark.slow
def test_real_face_passes_and_its_simulated_replays_are_caught(local_analyzer: FaceAnalyzer,
                                                               faces_dir: Path) -> None:
    checker = LivenessChecker(local_analyzer)
    data = (faces_dir / "deepface/img12.jpg").read_bytes()
    assert checker.check([("real", data)])["live"] is True
    rgb = decode_rgb(data)
    rng = np.random.default_rng(3)
    screen = checker.check([("screen", _as_jpeg_bytes(simulate_screen(rgb, rng)))])
    assert screen["live"] is False and screen["cues"]["peak_excess"] > 2.6
    printed = simulate_print(rgb, rng)
    assert printed.shape == rgb.shape  # geometry kept, so the face box still applies
    with pytest.raises(FaceInputError, match="1-16 frames"):
        checker.check([])
