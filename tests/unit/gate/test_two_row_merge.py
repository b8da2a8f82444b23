"""Two-row plate candidates from text-detector boxes (`pipelines.gate.plates._merge_two_rows`)
and the generated lane pictures used to measure the find-and-read path."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from datasets.gate_scenes import STREET_HW, mongolian_street_scene
from pipelines.gate.plates import _aligned_union, _grown_down, _merge_two_rows
from vision.ocr_det import TextBox, order_quad


def _box(cx: float, cy: float, w: float, h: float, deg: float = 0.0) -> TextBox:
    t = np.radians(deg)
    u, v = np.array([np.cos(t), np.sin(t)]), np.array([-np.sin(t), np.cos(t)])
    c = np.array([cx, cy])
    quad = [c - u * w / 2 - v * h / 2, c + u * w / 2 - v * h / 2, c + u * w / 2 + v * h / 2,
            c - u * w / 2 + v * h / 2]
    return TextBox(np.array(quad, dtype=np.float32), 0.9)


def test_rows_merge_whatever_order_the_boxes_come_in() -> None:
    top, bottom = _box(100, 50, 80, 30), _box(100, 85, 70, 28)
    a, b = _merge_two_rows([top, bottom]), _merge_two_rows([bottom, top])
    assert len(a) == 1 and len(b) == 1
    np.testing.assert_allclose(a[0], b[0], atol=1e-4)
    x0, y0 = a[0].min(axis=0)
    x1, y1 = a[0].max(axis=0)
    assert (x0, y0, x1, y1) == (60, 35, 140, 99)


def test_side_by_side_or_far_apart_boxes_do_not_merge() -> None:
    assert _merge_two_rows([_box(100, 50, 80, 30), _box(200, 50, 80, 30)]) == []
    assert _merge_two_rows([_box(100, 50, 80, 30), _box(100, 200, 80, 30)]) == []


def test_aligned_union_keeps_a_turned_plate_level() -> None:
    top, bottom = _box(100, 50, 80, 30, deg=6), _box(97, 82, 70, 26, deg=6)
    q = _aligned_union(top.quad, bottom.quad)
    dx, dy = q[1] - q[0]
    assert abs(np.degrees(np.arctan2(dy, dx)) - 6.0) < 1e-3
    # every corner of both boxes lies inside (or on) the union, which is no bigger than needed
    contour = q.reshape(-1, 1, 2)
    for pt in np.concatenate([top.quad, bottom.quad]):
        assert cv2.pointPolygonTest(contour, (float(pt[0]), float(pt[1])), True) >= -1e-3
    assert cv2.contourArea(contour) < 1.3 * (80 * 30 + 70 * 26 + 80 * 6)


def test_street_scene_is_reproducible_and_the_plate_is_inside() -> None:
    a = mongolian_street_scene(np.random.default_rng(5))
    b = mongolian_street_scene(np.random.default_rng(5))
    image, quad, text, rows = a
    assert np.array_equal(image, b[0]) and text == b[2]
    assert image.shape == (*STREET_HW, 3) and image.dtype == np.uint8
    assert len(text) == 7 and rows in (1, 2)
    assert quad.shape == (4, 2)
    assert (quad >= 0).all() and (quad[:, 0] < STREET_HW[1]).all() and (
        quad[:, 1] < STREET_HW[0]).all()


def test_grown_down_adds_one_box_height_below_along_the_sides() -> None:
    box = _box(100, 50, 80, 30, deg=5)
    q = _grown_down(box.quad)
    np.testing.assert_allclose(q[:2], order_quad(box.quad)[:2], atol=1e-4)
    left, right = q[3] - q[0], q[2] - q[1]
    np.testing.assert_allclose(np.linalg.norm(left), 60, atol=1e-3)
    np.testing.assert_allclose(np.linalg.norm(right), 60, atol=1e-3)
    assert abs(np.degrees(np.arctan2(left[1], left[0])) - 95.0) < 1e-3


def test_scene_evaluation_cli_rejects_an_empty_run() -> None:
    from pipelines.gate.evaluate_scenes import main

    with pytest.raises(SystemExit) as exc:
        main(["--n", "0"])
    assert exc.value.code == 2
