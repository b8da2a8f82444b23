"""Container reader passes through embedded Triton: the passage mode stops after its cheap
first pass when a code passes the check digit; the small-text tiles read codes too small for
the whole-image pass (a 'stack' composed of shrunken door photos, ~12 px print, on a
1560x940 canvas); candidate columns read a vertical code (on the real stack photo the
text detector misses them; this synthetic one it finds too)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from pipelines.gate.containers import ContainerReader
from pipelines.gate.ocr import GateOcr

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DOORS = {"alim_2009241555062080810.jpg": "MSKU4135329",
         "alim_2010141718465080810.jpg": "CADU4006525",
         "alim_2009251601212080810.jpg": "EISU9458864",
         "alim_2010141712555080810.jpg": "CMAU0051548"}


class CountingOcr(GateOcr):
    """Records the detector input sizes (long side, pixels)."""

    det_sides: list[int]

    def detect_map(self, image: Any, max_side: int | None = None) -> Any:
        out = super().detect_map(image, max_side)
        self.det_sides.append(int(max(out.det_in.tensor.shape[2:])))
        return out


def _counting(gate_ocr: GateOcr) -> CountingOcr:
    ocr = CountingOcr(client=gate_ocr.client, rec_charset=gate_ocr.rec_charset,
                      rec_model=gate_ocr.rec_model, rec_output=gate_ocr.rec_output)
    ocr.det_sides = []
    return ocr


def _img(path: Path) -> np.ndarray[Any, np.dtype[np.uint8]]:
    img = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None, path
    return np.asarray(img, np.uint8)


def _stack(realdata: Path, factor: float = 0.6) -> np.ndarray[Any, np.dtype[np.uint8]]:
    doors = [cv2.resize(_img(realdata / "containers" / n), None, fx=factor, fy=factor,
                        interpolation=cv2.INTER_AREA) for n in DOORS]
    h, w = doors[0].shape[:2]
    canvas = np.full((2 * h, 2 * w, 3), 100, np.uint8)
    for k, d in enumerate(doors):
        canvas[(k // 2) * h:(k // 2 + 1) * h, (k % 2) * w:(k % 2 + 1) * w] = d
    return np.asarray(cv2.copyMakeBorder(canvas, 200, 200, 300, 300, cv2.BORDER_REPLICATE),
                      np.uint8)


def test_fast_mode_first_pass_is_enough_for_a_gate_photo(gate_ocr: GateOcr,
                                                         realdata: Path) -> None:
    ocr = _counting(gate_ocr)
    res = ContainerReader(ocr, exhaustive=False).read(
        _img(realdata / "containers" / "alim_2009241555062080810.jpg"))
    assert res.codes[0].code == "MSKU4135329" and res.codes[0].check_digit_ok
    assert ocr.det_sides == [640]


def test_small_text_tiles_read_a_stack(gate_ocr: GateOcr, realdata: Path) -> None:
    # at 0.5 the print is ~12 px: the whole-image pass reads 2 of the 4 codes (float and INT8
    # detector alike), the tiles 3
    stack = _stack(realdata, factor=0.5)
    codes = {c.code for c in ContainerReader(gate_ocr).read(stack).codes if c.check_digit_ok}
    assert codes <= set(DOORS.values()) and len(codes) >= 3
    without = {c.code for c in ContainerReader(gate_ocr, max_tiles=0).read(stack).codes
               if c.check_digit_ok}
    assert without < codes  # the whole-image pass alone misses some


def test_vertical_code_read_from_a_candidate_column(gate_ocr: GateOcr) -> None:
    from tests.unit.gate.test_container_reader import vertical_code_scene

    img = vertical_code_scene("CSQU3054383")
    reader = ContainerReader(gate_ocr)
    codes = [(c.code, c.check_digit_ok) for c in reader.read(img).codes]
    assert ("CSQU3054383", True) in codes
    # the candidate column alone reads it (this clean print is also found by the detector)
    assert [t.text for t in reader._columns(img)] == ["CSQU3054383"]
