"""The container reader's passes with a fake inference client: the cheap first pass of the
passage mode, escalation, the small-text tiles of the exhaustive mode."""

from __future__ import annotations

import time

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from pipelines.gate.containers import (
    MAX_TILES,
    SMALL_TEXT_PX,
    TILE_SIDE,
    ZOOM,
    ContainerReader,
    _digit_after,
    weak_text_tiles,
)
from pipelines.gate.ocr import DetMap, GateOcr
from tests.unit.gate.factories import CHARSET
from tests.unit.gate.test_gate_pipeline import FakeClient
from vision.containers.vertical import column_candidates, column_crop
from vision.ocr_det import det_preprocess


def _door(width: int = 960, height: int = 540) -> npt.NDArray[np.uint8]:
    img = np.full((height, width, 3), 90, np.uint8)
    cv2.putText(img, "MSKU 413532 9", (width // 2, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.5,
                (255,) * 3, 3)
    return img


def _det_widths(client: FakeClient) -> list[int]:
    return [shape[3] for model, shape in client.calls if model == "ppocr_det"]


def test_fast_mode_stops_after_the_cheap_pass_when_the_check_digit_passes() -> None:
    client = FakeClient(text="MSKU4135329")
    reader = ContainerReader(GateOcr(client=client, rec_charset=CHARSET), exhaustive=False)
    res = reader.read(_door())
    assert [c.code for c in res.codes] == ["MSKU4135329"] and res.codes[0].check_digit_ok
    assert _det_widths(client) == [640]


def test_fast_mode_escalates_when_no_code_passes() -> None:
    client = FakeClient(text="MSKU4135328")  # wrong check digit
    reader = ContainerReader(GateOcr(client=client, rec_charset=CHARSET), exhaustive=False)
    res = reader.read(_door())
    assert res.codes and not res.codes[0].check_digit_ok
    assert _det_widths(client)[:2] == [640, 960]


def test_fast_mode_respects_the_deadline() -> None:
    client = FakeClient(text="MSKU4135328")
    reader = ContainerReader(GateOcr(client=client, rec_charset=CHARSET), exhaustive=False)
    reader.read(_door(), deadline=time.perf_counter() - 1.0)
    assert _det_widths(client) == [640]  # the first pass only


def test_exhaustive_mode_reads_the_whole_image_once_when_all_is_read() -> None:
    client = FakeClient(text="MSKU4135329")
    reader = ContainerReader(GateOcr(client=client, rec_charset=CHARSET))
    assert [c.code for c in reader.read(_door()).codes] == ["MSKU4135329"]
    assert _det_widths(client) == [960]  # never upscaled, no small-text tiles


def _dmap(prob: npt.NDArray[np.float32], image_hw: tuple[int, int]) -> DetMap:
    det_in = det_preprocess(np.zeros((*image_hw, 3), np.uint8), max_side=max(image_hw))
    assert det_in.tensor.shape[2:] == prob.shape
    return DetMap(boxes=[], prob=prob.astype(np.float32), det_in=det_in)


def test_weak_text_tiles_cover_small_blobs_away_from_known_codes() -> None:
    prob = np.zeros((480, 1280), np.float32)
    prob[100:108, 100:140] = 0.2  # small print, weak
    prob[110:118, 300:340] = 0.25  # same band: same tile
    prob[400:408, 1100:1140] = 0.2  # elsewhere: second tile
    prob[200:260, 600:900] = 0.9  # large text: readable already, no tile
    prob[300:306, 620:650] = 0.2  # inside a known code (else it would need a third tile)
    tiles = weak_text_tiles(_dmap(prob, (480, 1280)), (480, 1280),
                            [(610.0, 290.0, 660.0, 320.0)], MAX_TILES)
    assert len(tiles) == 2
    side = TILE_SIDE / ZOOM
    for t in tiles:
        assert t.scale == ZOOM and t.x1 - t.x0 <= side and t.y1 - t.y0 <= side
        assert t.x0 >= 0 and t.x1 <= 1280 and t.y0 >= 0 and t.y1 <= 480
    covers = [any(t.x0 <= x and x + 40 <= t.x1 and t.y0 <= y and y + 8 <= t.y1
                  for t in tiles) for x, y in ((100, 100), (300, 110), (1100, 400))]
    assert all(covers)
    assert len(weak_text_tiles(_dmap(prob, (480, 1280)), (480, 1280), [], MAX_TILES)) == 3
    assert weak_text_tiles(_dmap(prob, (480, 1280)), (480, 1280), [], 1) == tiles[:1]
    assert SMALL_TEXT_PX < 60  # the large blob above is not small print


@pytest.mark.parametrize("limit", [0, 3])
def test_weak_text_tiles_limit(limit: int) -> None:
    prob = np.zeros((480, 1280), np.float32)
    for k in range(8):
        prob[20 + 55 * k:26 + 55 * k, 40 + 150 * k:80 + 150 * k] = 0.2
    assert len(weak_text_tiles(_dmap(prob, (480, 1280)), (480, 1280), [], limit)) == limit


def vertical_code_scene(code: str = "CSQU3054383", char_px: int = 16, x: int = 300
                        ) -> npt.NDArray[np.uint8]:
    """A light wall (noise, a row of rivets, a door edge) with ``code`` printed vertically:
    upright dark characters ~``char_px`` high stacked from y = 100 around column ``x``."""
    rng = np.random.default_rng(0)
    img: npt.NDArray[np.uint8] = np.full((600, 800, 3), 200, np.uint8) + rng.integers(
        0, 20, (600, 800, 3), dtype=np.uint8)
    for yy in range(40, 560, 40):
        cv2.circle(img, (100, yy), 3, (90, 90, 90), -1)
    cv2.line(img, (500, 0), (500, 600), (60, 60, 60), 2)
    y = 100
    for ch in code:
        (w, h), _ = cv2.getTextSize(ch, cv2.FONT_HERSHEY_SIMPLEX, char_px / 22, 2)
        cv2.putText(img, ch, (x - w // 2, y + h), cv2.FONT_HERSHEY_SIMPLEX, char_px / 22,
                    (40, 40, 40), 2)
        y += int(h * 1.4)
    return img


def test_column_candidates_find_a_vertical_code() -> None:
    img = vertical_code_scene()
    boxes = column_candidates(img)
    assert len(boxes) == 1  # not the rivet row, not the door edge (too long and thin)
    x0, y0, x1, y1 = boxes[0]
    assert x0 <= 300 <= x1 and y0 <= 105 and y1 >= 300 and x1 - x0 <= 20
    line = column_crop(img, boxes[0])
    assert line.shape[1] > 6 * line.shape[0]  # turned into a line
    # the top of the column is the left of the line (read top to bottom)
    dark_cols = np.where(line.min(axis=(0, 2)) < 100)[0]
    assert dark_cols.min() < 0.1 * line.shape[1]
    assert column_candidates(np.full((300, 300, 3), 200, np.uint8)) == []


@pytest.mark.parametrize(("old", "new", "digit"), [
    ("GLDU541613", "GOU5416136", "6"),  # the head misread, the tail agrees: the digit counts
    ("438255", "4382559", "9"),
    ("438255", "438255", None),  # nothing more was read
    ("438255", "43825591", None),  # more than one character: not a check digit
    ("438255", "4382S5X", None),  # the tail does not agree
    ("MSKU", "MSKU4", None),  # too short to anchor
])
def test_check_digit_after_a_reread(old: str, new: str, digit: str | None) -> None:
    assert _digit_after(old, new) == digit
