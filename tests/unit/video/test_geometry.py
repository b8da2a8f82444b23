from __future__ import annotations

import pytest

from vision.video.geometry import (
    box_iou,
    crossing_sign,
    point_in_polygon,
    polygon_area,
    polygon_problem,
    segments_intersect,
)

SQUARE = ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0))


@pytest.mark.parametrize(
    ("poly", "fragment"),
    [
        (SQUARE, None),
        (((0, 0), (10, 0), (5, 8)), None),
        (((0, 0), (10, 0)), "at least 3"),
        (((0, 0), (10, 10), (10, 0), (0, 10)), "intersect"),  # bow-tie
        (((0, 0), (5, 5), (10, 10)), "zero area"),
        (((0, 0), (0, 0), (10, 0), (5, 5)), "repeats"),
        (((0, 0), (10, 0), (float("nan"), 5)), "finite"),
        (((0, 0), (10, 0), ("a", 5)), "numbers"),
    ],
)
def test_polygon_problem(poly, fragment) -> None:  # type: ignore[no-untyped-def]
    problem = polygon_problem(poly)
    if fragment is None:
        assert problem is None
    else:
        assert problem is not None and fragment in problem


def test_area_sign_follows_orientation() -> None:
    assert polygon_area(SQUARE) == 100.0
    assert polygon_area(tuple(reversed(SQUARE))) == -100.0


@pytest.mark.parametrize(
    ("p", "inside"),
    [((5, 5), True), ((0, 5), True), ((10, 10), True), ((11, 5), False), ((-0.1, 5), False),
     ((5, 10.01), False)],
)
def test_point_in_polygon(p: tuple[float, float], inside: bool) -> None:
    assert point_in_polygon(p, SQUARE) is inside


def test_point_in_concave_polygon() -> None:
    u_shape = ((0, 0), (9, 0), (9, 9), (6, 9), (6, 3), (3, 3), (3, 9), (0, 9))
    assert point_in_polygon((1.5, 6), u_shape)
    assert not point_in_polygon((4.5, 6), u_shape)


def test_segments_intersect_cases() -> None:
    assert segments_intersect((0, 0), (10, 10), (0, 10), (10, 0))
    assert not segments_intersect((0, 0), (1, 1), (2, 2), (3, 0))
    assert segments_intersect((0, 0), (10, 0), (10, 0), (10, 5))  # touching end points
    assert not segments_intersect((0, 0), (4, 0), (5, 0), (9, 0))  # collinear, disjoint


def test_crossing_sign_gives_direction_and_respects_segment_ends() -> None:
    a, b = (0.0, 5.0), (10.0, 5.0)  # pointing right on screen; below (y > 5) is the + side
    assert crossing_sign((5, 2), (5, 8), a, b) == 1
    assert crossing_sign((5, 8), (5, 2), a, b) == -1
    assert crossing_sign((15, 2), (15, 8), a, b) == 0  # passes beside the segment
    assert crossing_sign((5, 2), (5, 5), a, b) == 0  # lands on the line: not yet a crossing
    assert crossing_sign((5, 2), (6, 3), a, b) == 0


def test_box_iou() -> None:
    assert box_iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert box_iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0
    assert box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
