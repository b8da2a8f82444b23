"""Reading real plates and container codes through embedded Triton (a few per set; the full
sets are measured by bench/bench_gate.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from kouan.cli.main import main
from pipelines.gate.containers import ContainerReader
from pipelines.gate.ocr import GateOcr
from pipelines.gate.plates import PlateReader
from serving.embedded import EmbeddedTriton

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CCPD = [
    ("ccpd/0200311302682-90_89-282&337_528&424-536&423_287&422_292&333_541&334-"
     "0_0_21_16_32_32_31-40-44.jpg", "皖AXS887", "cn_blue"),
    ("ccpd/0384159482759-87_93-367&427_654&550-656&527_369&554_379&441_666&414-"
     "0_0_13_19_33_27_24-95-81.jpg", "皖APV930", "cn_blue"),
]
CROPS = ["皖A56384", "皖AB003S", "皖ANP523"]
CONTAINERS = [("alim_2009241555062080810.jpg", "MSKU4135329", "22G1"),
              ("alim_2010141718465080810.jpg", "CADU4006525", "42G1"),  # owner code re-found
              ("alim_2010141731412080810.jpg", "GLDU5416136", "22G1")]


def _img(path: Path) -> np.ndarray[Any, np.dtype[np.uint8]]:
    img = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None, path
    return np.asarray(img, np.uint8)


def test_chinese_plates(gate_ocr: GateOcr, realdata: Path) -> None:
    reader = PlateReader(gate_ocr)
    for name, text, ptype in CCPD:
        found = reader.read(_img(realdata / "plates_cn" / name))
        assert found and found[0].text == text and found[0].reading.plate_type == ptype
    for text in CROPS:
        found = reader.read(_img(realdata / "plates_cn" / "lprnet_crops" / f"{text}.jpg"))
        assert found and found[0].text == text


def test_plate_types(gate_ocr: GateOcr, realdata: Path) -> None:
    reader = PlateReader(gate_ocr)
    expect = {"double_yellow.jpg": "cn_yellow_double", "single_yellow.jpg": "cn_yellow",
              "single_green.jpg": "cn_green_new_energy"}
    for name, ptype in expect.items():
        found = reader.read(_img(realdata / "plates_cn" / "plate_types" / name))
        assert found and found[0].reading.plate_type == ptype, (name, found)


def test_container_codes(gate_ocr: GateOcr, realdata: Path) -> None:
    reader = ContainerReader(gate_ocr)
    for name, code, size_type in CONTAINERS:
        res = reader.read(_img(realdata / "containers" / name))
        assert res.codes and res.codes[0].code == code and res.codes[0].check_digit_ok
        assert res.codes[0].size_type is not None and res.codes[0].size_type.code == size_type


def test_cli_reads_plates_and_containers(triton_server: EmbeddedTriton, realdata: Path,
                                         monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from kouan.config import get_settings

    monkeypatch.setenv("KOUAN_TRITON_URL", triton_server.grpc_url)
    get_settings.cache_clear()
    plate = realdata / "plates_cn" / CCPD[0][0]
    assert main(["plates", "read", str(plate), "--json"]) == 0
    obj = json.loads(capsys.readouterr().out.strip())
    assert obj["file"] == str(plate) and obj["plate"] == CCPD[0][1]
    assert obj["type"] == "cn_blue" and len(obj["box"]) == 4 and 0 < obj["confidence"] <= 1
    cont = realdata / "containers" / CONTAINERS[0][0]
    assert main(["containers", "read", str(cont), "--json"]) == 0
    obj = json.loads(capsys.readouterr().out.strip())
    assert obj["codes"][0] == {"code": "MSKU4135329", "check_digit_ok": True,
                               "size_type": "22G1", "confidence": obj["codes"][0]["confidence"]}
    bad = realdata / "plates_cn" / "PROVENANCE.md"
    assert main(["plates", "read", str(bad)]) == 2
    assert main(["containers", "read", "/nonexistent.jpg"]) == 2
