"""Plate localisation by colour, rectification from corners, row handling, colour, CCPD names,
and DB text-box post-processing."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.unit.gate.factories import blue_plate, scene_with
from vision.ocr_det import TextBox, as_bgr, db_postprocess, det_preprocess, order_quad
from vision.plates.ccpd import parse_ccpd_name
from vision.plates.colour import plate_colour
from vision.plates.localize import find_plates
from vision.plates.rectify import plate_line, quad_size, rectify, row_options, row_split

CORNERS = np.array([[200, 210], [420, 190], [430, 262], [205, 280]], np.float32)


def test_order_quad_any_input_order() -> None:
    shuffled = CORNERS[[2, 0, 3, 1]]
    assert np.allclose(order_quad(shuffled), CORNERS)
    with pytest.raises(ValueError):
        order_quad(np.zeros((3, 2)))


def test_rectify_recovers_the_plate() -> None:
    plate = blue_plate()
    scene = scene_with(plate, CORNERS)
    out = rectify(scene, CORNERS, out_height=96, out_width=300)
    assert out.shape == (96, 300, 3)
    # the white character bars come back at their places: compare column profiles
    expect = (plate[:, :, 0] > 240).mean(axis=0)
    got = (out[:, :, 0] > 200).mean(axis=0)
    assert np.corrcoef(expect, got)[0, 1] > 0.9


def test_rectify_margin_and_aspect() -> None:
    scene = scene_with(blue_plate(), CORNERS)
    w, h = quad_size(CORNERS)
    tight = rectify(scene, CORNERS, out_height=48)
    assert abs(tight.shape[1] / 48 - w / h) < 0.1
    loose = rectify(scene, CORNERS, out_height=48, margin=(0.1, 0.2))
    # the quad keeps its aspect inside; 10 % / 20 % of surroundings are added on each side
    assert loose.shape[1] == pytest.approx(48 / 1.4 * w / h * 1.2, abs=2)
    with pytest.raises(ValueError):
        rectify(scene, CORNERS, margin=(1.0, 0.0))
    with pytest.raises(ValueError):
        rectify(scene, np.zeros((4, 2), np.float32))


def test_row_split_and_line() -> None:
    two_rows = np.full((100, 200), 230, np.uint8)
    cv2.rectangle(two_rows, (60, 8), (140, 30), 20, -1)  # top row (province + letter)
    cv2.rectangle(two_rows, (20, 45), (180, 92), 20, -1)  # bottom row
    y = row_split(two_rows)
    assert 30 <= y <= 45
    line = plate_line(two_rows, rows=2, height=48)
    assert line.shape[0] == 48 and line.shape[1] > 2 * 48
    assert plate_line(two_rows, rows=1).shape[0] == 48
    with pytest.raises(ValueError):
        plate_line(two_rows, rows=3)


@pytest.mark.parametrize(("aspect", "options"), [(3.5, [1]), (1.4, [2]), (2.2, [1, 2])])
def test_row_options(aspect: float, options: list[int]) -> None:
    assert row_options(aspect) == options


def test_find_plates_in_a_scene() -> None:
    scene = scene_with(blue_plate(), CORNERS)
    found = find_plates(scene)
    assert found, "the blue plate was not found"
    best = found[0]
    assert best.colour == "blue" and best.rows == 1
    x0, y0, x1, y1 = best.xyxy()
    assert abs(x0 - 200) < 12 and abs(x1 - 430) < 12 and abs(y0 - 190) < 12 and abs(y1 - 280) < 12


def test_find_plates_nothing_in_grey() -> None:
    assert find_plates(np.full((300, 400, 3), 128, np.uint8)) == []
    assert find_plates(np.zeros((4, 4), np.uint8)) == []


@pytest.mark.parametrize(("bgr", "colour"), [
    ((200, 80, 20), "blue"), ((20, 190, 230), "yellow"), ((80, 200, 60), "green"),
    ((235, 235, 235), "white"), ((25, 25, 25), "black"),
])
def test_plate_colour(bgr: tuple[int, int, int], colour: str) -> None:
    crop = np.zeros((40, 120, 3), np.uint8)
    crop[:] = bgr
    cv2.putText(crop, "A123", (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.9,
                (0, 0, 0) if colour != "black" else (255, 255, 255), 2)
    assert plate_colour(crop) == colour


def test_ccpd_name() -> None:
    name = ("ccpd/0130387931034-92_78-208&514_430&581-440&588_205&575_185&501_420&514-"
            "0_0_24_12_31_25_32-134-19.jpg")
    lab = parse_ccpd_name(name)
    assert lab.plate == "皖A0N718"
    assert lab.box_xyxy == (208, 514, 430, 581)
    assert lab.corners.tolist() == [[185, 501], [420, 514], [440, 588], [205, 575]]
    green = "x-1_2-1&2_3&4-5&6_7&8_9&10_11&12-0_0_3_25_25_25_30_30-1-2.jpg"
    assert parse_ccpd_name(green).plate == "皖AD11166"
    bad_index = "x-1_2-1&2_3&4-5&6_7&8_9&10_11&12-0_0_99-1-2.jpg"
    for bad in ["plain.jpg", "a-b-c-d-e-f-g.jpg", bad_index]:
        with pytest.raises(ValueError):
            parse_ccpd_name(bad)


def test_det_pre_and_post() -> None:
    image = np.zeros((200, 333, 3), np.uint8)
    det_in = det_preprocess(image, max_side=160)
    n, c, h, w = det_in.tensor.shape
    assert (n, c) == (1, 3) and h % 32 == 0 and w % 32 == 0 and max(h, w) <= 192
    assert det_in.tensor.min() >= -1.0 and det_in.tensor.max() <= 1.0
    prob = np.zeros((h, w), np.float32)
    prob[20:30, 40:100] = 0.9  # one text line in map pixels
    boxes = db_postprocess(prob, det_in)
    assert len(boxes) == 1
    x0, y0, x1, y1 = boxes[0].xyxy()
    sx, sy = det_in.scale_x, det_in.scale_y
    assert x0 < 40 * sx < 100 * sx < x1 and y0 < 20 * sy < 30 * sy < y1  # grown, not shrunk
    assert isinstance(boxes[0], TextBox) and boxes[0].score > 0.8
    assert db_postprocess(np.zeros((1, 1, h, w), np.float32), det_in) == []
    with pytest.raises(ValueError):
        det_preprocess(image, max_side=8)


def test_as_bgr_variants() -> None:
    assert as_bgr(np.zeros((5, 6), np.uint8)).shape == (5, 6, 3)
    assert as_bgr(np.zeros((5, 6, 4), np.uint8)).shape == (5, 6, 3)
    with pytest.raises(ValueError):
        as_bgr(np.zeros((5, 6), np.float32))


def test_row_split_ignores_a_dark_surround() -> None:
    """Character strokes, not the grey level, decide: a tilted crop shows more dark car body
    at some heights than at others."""
    plate = np.full((120, 160), 220, np.uint8)
    for x in range(20, 140, 12):
        cv2.line(plate, (x, 15), (x + 4, 55), 30, 3)  # top row strokes
    for x in range(40, 120, 12):
        cv2.line(plate, (x, 72), (x + 3, 104), 30, 3)  # bottom row strokes
    for y in range(60):
        plate[y, : int(160 * (60 - y) / 60 * 0.6)] = 15
    assert 56 <= row_split(plate) <= 71
