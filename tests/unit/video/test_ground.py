from __future__ import annotations

import pytest

from vision.video.ground import Intrinsics, Pose, ground_to_image, image_to_ground

K = Intrinsics.from_fov(640, 360, 60.0)


@pytest.mark.parametrize(
    "pose",
    [
        Pose(0.0, 10.0, -5.0, 20.0, 0.0, 90.0),  # drone, nadir, north up
        Pose(0.0, 10.0, -5.0, 20.0, 137.0, 90.0),
        Pose(0.0, 0.0, 0.0, 1.5, 45.0, 20.0),  # robot camera looking ahead and down
    ],
)
def test_round_trip(pose: Pose) -> None:
    for u, v in [(320.0, 300.0), (10.0, 350.0), (600.0, 250.0)]:
        g = image_to_ground(K, pose, u, v)
        assert g is not None
        back = ground_to_image(K, pose, *g)
        assert back == pytest.approx((u, v), abs=1e-6)


def test_nadir_geometry() -> None:
    pose = Pose(0.0, 100.0, 200.0, 30.0, 0.0, 90.0)
    assert image_to_ground(K, pose, K.cx, K.cy) == pytest.approx((100.0, 200.0))
    # heading north: the top of the image is north, the right is east
    top = image_to_ground(K, pose, K.cx, 0.0)
    right = image_to_ground(K, pose, 640.0, K.cy)
    assert top is not None and top[1] > 200.0 and top[0] == pytest.approx(100.0)
    assert right is not None and right[0] > 100.0
    # ground sampling: half-width 320 px spans height * tan(30 deg) metres
    assert right[0] - 100.0 == pytest.approx(30.0 * 0.57735, rel=1e-6)
    east = Pose(0.0, 100.0, 200.0, 30.0, 90.0, 90.0)  # heading east: top of image is east
    top_e = image_to_ground(K, east, K.cx, 0.0)
    assert top_e is not None and top_e[0] > 100.0


def test_horizon_and_validation() -> None:
    level = Pose(0.0, 0.0, 0.0, 1.5, 0.0, 5.0)
    assert image_to_ground(K, level, 320.0, 0.0) is None  # above the horizon
    with pytest.raises(ValueError):
        Pose(0.0, 0.0, 0.0, -1.0, 0.0, 45.0)
    with pytest.raises(ValueError):
        Pose(0.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    with pytest.raises(ValueError):
        Intrinsics(0.0, 1.0, 0.0, 0.0)


def test_geo_origin_round_trip_and_scale() -> None:
    from vision.video.ground import GeoOrigin

    o = GeoOrigin(111.97, 43.65)  # Erenhot
    x, y = o.to_map(111.97 + 0.001, 43.65 + 0.001)
    assert y == pytest.approx(111.2, abs=0.5)  # ~111 m per 0.001 deg of latitude
    assert x == pytest.approx(111.2 * 0.7236, abs=0.5)  # shrunk by cos(latitude)
    assert o.to_lonlat(x, y) == pytest.approx((111.971, 43.651))
    with pytest.raises(ValueError):
        GeoOrigin(200.0, 0.0)
