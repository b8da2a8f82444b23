from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.unit.video.factories import texture
from vision.video.egomotion import EgoMotionEstimator, compose, identity, transform_points


def test_recovers_rotation_scale_and_shift() -> None:
    img = cv2.cvtColor(texture(240, 320, seed=11), cv2.COLOR_BGR2GRAY)
    truth = cv2.getRotationMatrix2D((160, 120), 2.0, 1.03)
    truth[:, 2] += (4.0, -2.5)
    moved = cv2.warpAffine(img, truth, (320, 240), borderMode=cv2.BORDER_REFLECT)
    est = EgoMotionEstimator()
    assert not est.update(img).ok  # first frame: nothing to compare with
    got = est.update(moved)
    assert got.ok and got.inliers >= 12
    pts = np.array([[50.0, 50.0], [270.0, 60.0], [160.0, 200.0]])
    assert np.abs(transform_points(got.matrix, pts) - transform_points(truth, pts)).max() < 1.0


def test_blank_frames_give_identity_not_an_error() -> None:
    est = EgoMotionEstimator()
    blank = np.full((120, 160), 128, np.uint8)
    est.update(blank)
    got = est.update(blank)
    assert not got.ok
    assert np.array_equal(got.matrix, identity())


def test_compose_applies_first_then_second() -> None:
    shift = np.array([[1.0, 0, 5], [0, 1.0, 0]])
    scale = np.array([[2.0, 0, 0], [0, 2.0, 0]])
    pts = np.array([[1.0, 1.0]])
    assert transform_points(compose(scale, shift), pts) == pytest.approx(np.array([[12.0, 2.0]]))
