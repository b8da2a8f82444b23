"""Gate passages for ``kouan demo``: real and generated lane images with declarations that match
or not, through the real pieces (Triton, evidence store, review queue, alarm outbox).

1. real CCPD plate photo + real gate-camera container photo, declaration that matches -> clear;
2. generated Mongolian plate + generated container door, declared container serial wrong
   -> hold (finding + alarm);
3. real plate crop, declaration names a trailer plate no camera saw -> inspect (finding).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from datasets.gate_scenes import container_door, mongolian_plate_scene
from kouan.domain.models import Declaration, new_id
from kouan.services import Services
from pipelines.gate.ocr import GateOcr
from pipelines.gate.passage import GateImage, PassagePipeline
from serving.client import InferenceClient

CCPD_PLATE = ("plates_cn/ccpd/0200311302682-90_89-282&337_528&424-536&423_287&422_292&333_541&334"
              "-0_0_21_16_32_32_31-40-44.jpg")
REAL_CONTAINER = "containers/alim_2009241555062080810.jpg"
LPR_CROP = "plates_cn/lprnet_crops/皖A56384.jpg"
GENERATED_CODE = "CSQU3054383"  # the ISO 6346 worked example (valid check digit)
GENERATED_PLATE = "4135УБМ"


def _jpeg(img: npt.NDArray[np.uint8]) -> bytes:
    ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 92])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return enc.tobytes()


def run_demo(services: Services, triton_client: InferenceClient,
             realdata_dir: Path) -> dict[str, Any]:
    """Run three passages and summarise what happened (decisions, reads, findings, alarms)."""
    t0 = time.perf_counter()
    pipeline = PassagePipeline(GateOcr.from_repository(triton_client), services)
    real = realdata_dir
    wrong_serial = GENERATED_CODE[:4] + "3054380"
    cases = [
        ("real photos, declaration matches",
         Declaration(plate="皖AXS887", container_numbers=["MSKU4135329"]),
         [GateImage("ccpd_plate.jpg", "plate", (real / CCPD_PLATE).read_bytes()),
          GateImage("gate_container.jpg", "container", (real / REAL_CONTAINER).read_bytes())]),
        ("generated images, declared container serial differs",
         Declaration(plate=GENERATED_PLATE, container_numbers=[wrong_serial]),
         [GateImage("generated_mn_plate.jpg", "plate", _jpeg(mongolian_plate_scene(
             GENERATED_PLATE))),
          GateImage("generated_door.jpg", "container", _jpeg(container_door(GENERATED_CODE)))]),
        ("trailer plate declared but not seen",
         Declaration(plate="皖A56384", trailer_plate="皖B1234挂"),
         [GateImage("plate_crop.jpg", "plate", (real / LPR_CROP).read_bytes())]),
    ]
    passages: list[dict[str, Any]] = []
    for label, decl, images in cases:
        ans = pipeline.run(new_id("psg-demo"), decl, images, lane_id="demo-lane-1",
                           time_budget_ms=30_000)
        passages.append({
            "scenario": label, "passage_id": ans.passage_id, "decision": ans.decision.value,
            "plates": [p.plate for p in ans.plates],
            "containers": [c.code for c in ans.containers],
            "reasons": ans.reasons, "findings": ans.finding_ids, "alarms": ans.alarm_ids,
            "elapsed_ms": ans.elapsed_ms})
    return {"passages": passages,
            "decisions": [p["decision"] for p in passages],
            "findings": sum(len(p["findings"]) for p in passages),
            "alarms": sum(len(p["alarms"]) for p in passages),
            "elapsed_s": round(time.perf_counter() - t0, 2)}
