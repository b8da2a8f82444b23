"""The gate pipeline's logic with a fake inference client at the seam (the real models run in
tests/integration/gate): candidate regions, batching, evidence, findings, decisions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from kouan.domain.models import Declaration
from kouan.errors import UsageError
from kouan.services import Services
from pipelines.gate.containers import ContainerReader
from pipelines.gate.ocr import GateOcr
from pipelines.gate.passage import GateImage, PassagePipeline, load_answer
from pipelines.gate.plates import PlateReader
from tests.unit.gate.factories import CHARSET, blue_plate, ctc_probs, scene_with
from vision.plates.mn_rec import MN_CHARSET

CORNERS = np.array([[200, 210], [420, 190], [430, 262], [205, 280]], np.float32)


class FakeClient:
    """Spells ``text`` for every rec crop and finds one text box in the top right of any
    image given to the detector."""

    def __init__(self, text: str = "皖A12345") -> None:
        self.text = text
        self.calls: list[tuple[str, tuple[int, ...]]] = []

    def _spell(self, text: str, steps: int, charset: Sequence[str]) -> npt.NDArray[Any]:
        p = ctc_probs(text, charset, frames_per_char=1)
        out = np.zeros((steps, len(charset)), np.float32)
        out[:, 0] = 1.0
        out[: min(steps, len(p))] = p[:steps]
        return out

    def infer(self, model: str, inputs: Mapping[str, npt.NDArray[Any]],
              outputs: Sequence[str]) -> dict[str, npt.NDArray[Any]]:
        x = next(iter(inputs.values()))
        self.calls.append((model, tuple(x.shape)))
        if model == "ppocr_det":
            prob = np.zeros((1, 1, x.shape[2], x.shape[3]), np.float32)
            h, w = x.shape[2:]
            prob[0, 0, h // 8:h // 8 + h // 16, w // 2:w // 2 + w // 3] = 0.95
            return {outputs[0]: prob}
        if model == "ppocr_rec":
            steps = x.shape[3] // 8
            return {outputs[0]: np.stack([self._spell(self.text, steps, CHARSET)] * x.shape[0])}
        if model == "plate_rec_mn":
            return {outputs[0]: np.stack([self._spell("1537УНЛ", 32, MN_CHARSET)] * x.shape[0])}
        raise AssertionError(model)

    def ready(self, model: str) -> bool:
        return True

    def close(self) -> None:
        pass


def test_plate_reader_colour_path() -> None:
    client = FakeClient()
    reader = PlateReader(GateOcr(client=client, rec_charset=CHARSET))
    found = reader.read(scene_with(blue_plate(), CORNERS))
    assert found and found[0].text == "皖A12345" and found[0].source == "colour"
    assert found[0].reading.plate_type == "cn_blue"
    x0, y0, x1, y1 = found[0].box
    assert abs(x0 - 200) < 15 and abs(x1 - 430) < 15
    # confident after the first round: the text detector was never asked
    assert all(m != "ppocr_det" for m, _ in client.calls)


def test_mongolian_crnn_reads_white_and_yellowish_regions_only() -> None:
    """A dirty or warmly lit Mongolian plate looks yellow: the CRNN reads yellow regions too,
    never blue (or green) ones."""
    blue = blue_plate()
    yellow = blue.copy()
    yellow[(blue == (200, 80, 20)).all(axis=-1)] = (40, 190, 220)  # BGR yellow
    for plate, expect_mn in ((blue, False), (yellow, True)):
        client = FakeClient()
        PlateReader(GateOcr(client=client, rec_charset=CHARSET)).read(
            scene_with(plate, CORNERS), use_detector=False)
        assert any(m == "plate_rec_mn" for m, _ in client.calls) is expect_mn


def test_plate_reader_whole_crop_and_detector_fallback() -> None:
    client = FakeClient()
    reader = PlateReader(GateOcr(client=client, rec_charset=CHARSET))
    crop = blue_plate(300, 96)
    assert reader.read(crop)[0].source in ("colour", "whole_image")
    grey_scene = np.full((300, 500, 3), 128, np.uint8)
    found = reader.read(grey_scene)
    assert any(m == "ppocr_det" for m, _ in client.calls)
    assert found and found[0].source == "text_detector"


def test_container_reader_with_fake_models() -> None:
    client = FakeClient(text="MSKU4135329")
    reader = ContainerReader(GateOcr(client=client, rec_charset=CHARSET))
    img = np.full((540, 960, 3), 90, np.uint8)
    cv2.putText(img, "MSKU 413532 9", (480, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (255,) * 3, 3)
    res = reader.read(img)
    assert [c.code for c in res.codes] == ["MSKU4135329"] and res.codes[0].check_digit_ok


def _jpeg(img: npt.NDArray[Any]) -> bytes:
    return cv2.imencode(".jpg", img)[1].tobytes()


@pytest.mark.parametrize(("declared", "decision", "findings", "alarms"), [
    ("皖A12345", "clear", 0, 0),
    ("皖A12346", "hold", 1, 1),
])
def test_passage_pipeline(services: Services, declared: str, decision: str, findings: int,
                          alarms: int) -> None:
    pipe = PassagePipeline(GateOcr(client=FakeClient(), rec_charset=CHARSET), services)
    images = [GateImage("plate.jpg", "plate", _jpeg(scene_with(blue_plate(), CORNERS)))]
    ans = pipe.run(f"psg-unit-{decision}", Declaration(plate=declared), images)
    assert ans.decision.value == decision
    assert len(ans.finding_ids) == findings and len(ans.alarm_ids) == alarms
    assert load_answer(services, ans.passage_id) == ans.model_dump(mode="json")
    assert set(ans.evidence) == {"plate.jpg", "declaration"}


def test_passage_budget_and_bad_image(services: Services) -> None:
    pipe = PassagePipeline(GateOcr(client=FakeClient(), rec_charset=CHARSET), services)
    img = _jpeg(scene_with(blue_plate(), CORNERS))
    images = [GateImage(f"p{i}.jpg", "plate", img) for i in range(3)]
    ans = pipe.run("psg-unit-budget", Declaration(plate="皖A12345"), images,
                   time_budget_ms=0.001)
    assert ans.skipped_images == ["p0.jpg", "p1.jpg", "p2.jpg"]
    assert ans.decision.value == "inspect" and "time budget" in ans.reasons[-1]
    with pytest.raises(UsageError, match="truncated"):
        pipe.run("psg-unit-bad", Declaration(plate="皖A12345"),
                 [GateImage("bad.jpg", "plate", img[:100])])
    stored: dict[str, Any] = load_answer(services, "psg-unit-bad")
    assert "truncated" in stored["rejected"]


class BrokenClient(FakeClient):
    """Fails every detector call (a Triton error half-way through a passage)."""

    def infer(self, model: str, inputs: Mapping[str, npt.NDArray[Any]],
              outputs: Sequence[str]) -> dict[str, npt.NDArray[Any]]:
        if model == "ppocr_det":
            raise RuntimeError("detector down")
        return super().infer(model, inputs, outputs)


def _door() -> npt.NDArray[np.uint8]:
    img = np.full((540, 960, 3), 90, np.uint8)
    cv2.putText(img, "MSKU 413532 9", (480, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (255,) * 3, 3)
    return img


def test_passage_reads_plates_and_containers_side_by_side(services: Services) -> None:
    pipe = PassagePipeline(GateOcr(client=FakeClient(), rec_charset=CHARSET), services)
    images = [GateImage("plate.jpg", "plate", _jpeg(scene_with(blue_plate(), CORNERS))),
              GateImage("door.jpg", "container", _jpeg(_door()))]
    ans = pipe.run("psg-unit-both", Declaration(plate="皖A12345",
                                                container_numbers=["MSKU4135329"]), images)
    # the fake recogniser spells the plate for every crop: the container code is unreadable
    assert ans.plates[0].plate == "皖A12345" and ans.containers == []
    assert ans.decision.value == "inspect" and ans.skipped_images == []
    assert set(ans.evidence) == {"plate.jpg", "door.jpg", "declaration"}
    models = [r.payload.get("model", {}).get("name")
              for r in services.evidence.case("psg-unit-both")["records"]]
    assert models.count("gate_plate_reader") == 1 and models.count("gate_container_reader") == 1
    assert models[-1] == "gate_passage"
    skipped = pipe.run("psg-unit-both-late", Declaration(plate="皖A12345"), images,
                       time_budget_ms=0.001)
    assert skipped.skipped_images == ["plate.jpg", "door.jpg"]
    pipe.close()


def test_reader_failure_keeps_the_evidence(services: Services) -> None:
    pipe = PassagePipeline(GateOcr(client=BrokenClient(), rec_charset=CHARSET), services)
    images = [GateImage("door.jpg", "container", _jpeg(_door()))]
    with pytest.raises(RuntimeError, match="detector down"):
        pipe.run("psg-unit-broken",
                 Declaration(plate="皖A12345", container_numbers=["MSKU4135329"]), images)
    records = services.evidence.case("psg-unit-broken")["records"]
    assert sum(1 for r in records if r.event.value == "capture_stored") == 2  # declaration, image
