"""One lane passage end to end: store the evidence, read plates and containers, match the
declaration, decide, and queue findings (with alarms on mismatches).

Evidence (case id = passage id): the declaration JSON and every uploaded image as captures
(every upload is stored, a refused file too; the readers already run while they are written),
one ``inference`` entry per image
(reader output) and a final ``gate_passage`` entry whose output is the answer itself; that
entry is what ``GET /v1/passages/{id}`` returns. Work stops at the time budget: images not
reached are listed in ``skipped_images`` and their fields end up unreadable (``inspect``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from kouan.domain.models import (
    Declaration,
    Detection,
    EvidenceEvent,
    Finding,
    FindingType,
    Modality,
    ModelRef,
    Severity,
)
from kouan.errors import UsageError
from kouan.evidence.errors import UnknownCase
from kouan.services import Services
from pipelines.gate.containers import ContainerImageResult, ContainerReader, vote_across
from pipelines.gate.images import ImageTooLarge, decode_image, media_type_of
from pipelines.gate.matching import match_passage
from pipelines.gate.models import ContainerOut, Decision, FieldMatch, PassageAnswer, PlateOut
from pipelines.gate.ocr import GateOcr
from pipelines.gate.plates import PlateReader, PlateResult

Image = npt.NDArray[np.uint8]

log = logging.getLogger(__name__)
ANSWER_MODEL = "gate_passage"
VERSION = "ppocr_det.1+ppocr_rec.1+plate_rec_mn.1+gate.1"
MAX_IMAGES = 8  # per role (plate / container) in one passage


@dataclass(frozen=True)
class GateImage:
    """One uploaded image: ``role`` is ``plate`` or ``container``."""

    name: str
    role: str
    data: bytes


def plate_out(image: str, r: PlateResult | None) -> PlateOut:
    if r is None:
        return PlateOut(image=image, plate=None, confidence=0.0)
    return PlateOut(image=image, plate=r.text, confidence=round(r.reading.confidence, 4),
                    char_confidence=[round(c, 4) for c in r.reading.char_conf],
                    box=[round(v, 1) for v in r.box], type=r.reading.plate_type,
                    colour=r.reading.colour, country=r.reading.template.country.value)


def container_outs(names: Sequence[str], results: Sequence[ContainerImageResult]
                   ) -> list[ContainerOut]:
    voted = vote_across(results)
    outs = []
    for v in voted:
        seen = [n for n, r in zip(names, results, strict=True)
                if any(c.code[4:10] == v.code[4:10] for c in r.codes)]
        first = next((c for r in results for c in r.codes if c.code == v.code), None)
        st = first.size_type if first else None
        check = first.check_digit_ok if first else v.valid
        outs.append(ContainerOut(code=v.code, check_digit_ok=check,
                                 size_type=st.code if st else None,
                                 size_type_description=st.description if st else None,
                                 confidence=round(v.confidence, 4), support=v.support,
                                 images=seen))
    return outs


class PassagePipeline:
    """Runs passages through the OCR readers and the application services.

    Plate and container images are read concurrently (one worker each: Triton serves the
    detector and the recogniser side by side), while the uploads are written to the evidence
    store; the container reader runs in its fast mode (cheap first pass, escalation only when
    no code passes the check digit, see :class:`ContainerReader`)."""

    def __init__(self, ocr: GateOcr, services: Services, workers: int = 2) -> None:
        self.ocr = ocr
        self.services = services
        self.plates = PlateReader(ocr)
        self.containers = ContainerReader(ocr, exhaustive=False)
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers),
                                        thread_name_prefix="gate-read")

    def close(self) -> None:
        """Stop the reader threads (running passages finish first)."""
        self._pool.shutdown(wait=True)

    # -- evidence helpers --------------------------------------------------------------
    def _capture(self, passage_id: str, data: bytes, media_type: str,
                 meta: dict[str, Any]) -> str:
        return self.services.evidence.put_capture(passage_id, data, media_type, meta)

    def _inference(self, passage_id: str, model: str, input_sha: str,
                   output: dict[str, Any]) -> None:
        self.services.evidence.record_inference(passage_id, model, VERSION, input_sha, output)

    # -- reading (worker threads) ------------------------------------------------------
    def _read_plates(self, images: list[tuple[GateImage, Image]], deadline: float
                     ) -> list[tuple[str, list[PlateResult] | None]]:
        """Per image its plates, ``None`` when the time budget was spent before it."""
        out: list[tuple[str, list[PlateResult] | None]] = []
        for img, bgr in images:
            out.append((img.name, None if time.perf_counter() > deadline
                        else self.plates.read(bgr)))
        return out

    def _read_containers(self, images: list[tuple[GateImage, Image]], deadline: float
                         ) -> list[tuple[str, ContainerImageResult | None]]:
        out: list[tuple[str, ContainerImageResult | None]] = []
        for img, bgr in images:
            out.append((img.name, None if time.perf_counter() > deadline
                        else self.containers.read(bgr, deadline=deadline)))
        return out

    # -- the passage -------------------------------------------------------------------
    def run(self, passage_id: str, declaration: Declaration, images: Sequence[GateImage],
            lane_id: str | None = None, time_budget_ms: float = 3000.0) -> PassageAnswer:
        """Process one passage; :class:`UsageError` (after storing what arrived) when an image
        cannot be decoded or there are too many.

        Plates and containers are read within ``time_budget_ms`` from the call: an image not
        started by then is skipped, and the container reader does not escalate past it."""
        t0 = time.perf_counter()
        for role in ("plate", "container"):
            n = sum(1 for i in images if i.role == role)
            if n > MAX_IMAGES:
                reason = f"{n} {role} images; at most {MAX_IMAGES} per passage"
                record_rejection(self.services, passage_id, declaration, reason, lane_id)
                raise ImageTooLarge(reason)
        deadline = t0 + time_budget_ms / 1000.0
        decoded: list[tuple[GateImage, Image]] = []
        refused: UsageError | None = None
        try:
            decoded = [(img, decode_image(img.data, img.name)) for img in images]
        except UsageError as exc:
            refused = exc
        jobs: list[Future[Any]] = []
        if refused is None:  # read while the uploads are being stored
            jobs = [self._pool.submit(self._read_plates,
                                      [d for d in decoded if d[0].role == "plate"], deadline),
                    self._pool.submit(self._read_containers,
                                      [d for d in decoded if d[0].role == "container"],
                                      deadline)]
        try:
            decl_sha = _store_declaration(self.services, passage_id, declaration, lane_id)
            shas: dict[str, str] = {}
            for img in images:  # every upload is kept, a refused one too
                shas[img.name] = self._capture(passage_id, img.data, media_type_of(img.data),
                                               {"role": img.role, "file": img.name[:200],
                                                "lane_id": lane_id})
            if refused is not None:
                self._inference(passage_id, ANSWER_MODEL, decl_sha,
                                {"passage_id": passage_id, "rejected": str(refused)})
                raise refused
            plate_reads = jobs[0].result()
            container_reads = jobs[1].result()
        finally:
            for j in jobs:  # never leave a reader running past the call
                j.cancel()
                if not j.cancelled():
                    j.exception()
        skipped: list[str] = []
        plates: list[PlateOut] = []
        for name, found in plate_reads:
            if found is None:
                skipped.append(name)
                continue
            outs = [plate_out(name, r) for r in found] or [plate_out(name, None)]
            plates += outs
            self._inference(passage_id, "gate_plate_reader", shas[name],
                            {"image": name, "plates": [o.model_dump() for o in outs]})
        c_names: list[str] = []
        c_results: list[ContainerImageResult] = []
        for name, res in container_reads:
            if res is None:
                skipped.append(name)
                continue
            c_names.append(name)
            c_results.append(res)
            self._inference(passage_id, "gate_container_reader", shas[name], {
                "image": name, "serials_without_owner": res.serials,
                "codes": [{"code": c.code, "check_digit_ok": c.check_digit_ok, "raw": c.raw,
                           "confidence": c.confidence, "box": list(c.box),
                           "size_type": c.size_type.code if c.size_type else None}
                          for c in res.codes]})
        containers = container_outs(c_names, c_results)
        serials = [s for r in c_results for s in r.serials]
        match, decision, reasons = match_passage(declaration, plates, containers, serials)
        if skipped:
            reasons.append(f"time budget of {time_budget_ms:.0f} ms reached; not processed: "
                           + ", ".join(skipped))
        answer = PassageAnswer(passage_id=passage_id, lane_id=lane_id, plates=plates,
                               containers=containers, match=match, decision=decision,
                               reasons=reasons, skipped_images=skipped, elapsed_ms=0.0,
                               evidence=shas | {"declaration": decl_sha})
        finding_ids, alarm_ids = self._findings(answer, match.fields, list(shas.values()),
                                                lane_id)
        answer = answer.model_copy(update={
            "finding_ids": finding_ids, "alarm_ids": alarm_ids,
            "elapsed_ms": round((time.perf_counter() - t0) * 1000.0, 1)})
        self._inference(passage_id, ANSWER_MODEL, decl_sha, answer.model_dump(mode="json"))
        return answer

    def _findings(self, answer: PassageAnswer, fields: Sequence[FieldMatch],
                  evidence: list[str], lane_id: str | None) -> tuple[list[str], list[str]]:
        """A finding per mismatching field (with an alarm) and one for the unreadable fields
        (review only, no alarm)."""
        finding_ids, alarm_ids = [], []
        port = self.services.settings.port_code
        model = ModelRef(name="gate", version=VERSION[:32])
        plate_dets = [Detection(label="plate", score=p.confidence, text=p.plate,
                                box=tuple(p.box) if p.box else None)  # type: ignore[arg-type]
                      for p in answer.plates if p.plate and p.box]
        container_dets = [Detection(label="container_code", score=c.confidence, text=c.code)
                          for c in answer.containers]
        unreadable = [f for f in fields if f.outcome == "unreadable"]
        jobs: list[tuple[str, FindingType, Severity, str, bool, Modality]] = []
        for f in fields:
            if f.outcome != "mismatch":
                continue
            is_plate = "plate" in f.field
            jobs.append((f.field, FindingType.PLATE_MISMATCH if is_plate
                         else FindingType.CONTAINER_MISMATCH, Severity.HIGH,
                         f.explanation, True,
                         Modality.PLATE_CAMERA if is_plate else Modality.CONTAINER_CAMERA))
        if unreadable and answer.decision is Decision.INSPECT:
            jobs.append(("unreadable", FindingType.UNREADABLE, Severity.MEDIUM,
                         "; ".join(f.explanation for f in unreadable), False,
                         Modality.PLATE_CAMERA if any("plate" in f.field for f in unreadable)
                         else Modality.CONTAINER_CAMERA))
        for key, ftype, severity, explanation, alarm, modality in jobs:
            finding = Finding(
                id=f"{answer.passage_id}.{key.replace('[', '').replace(']', '')}"[:128],
                case_id=answer.passage_id, type=ftype, severity=severity,
                explanation=explanation[:4000], port_id=port, lane_id=lane_id,
                modality=modality, evidence=evidence, model=model,
                detections=plate_dets if modality is Modality.PLATE_CAMERA else container_dets)
            item, al = self.services.queue.submit_finding(finding, raise_alarm=alarm)
            finding_ids.append(finding.id)
            if al is not None:
                alarm_ids.append(al.id)
            log.info("passage %s: %s finding %s (review item %s)", answer.passage_id,
                     ftype.value, finding.id, item.id)
        return finding_ids, alarm_ids


def _store_declaration(services: Services, passage_id: str, declaration: Declaration,
                       lane_id: str | None) -> str:
    return services.evidence.put_capture(passage_id, declaration.model_dump_json().encode(),
                                         "application/json",
                                         {"role": "declaration", "lane_id": lane_id})


def record_rejection(services: Services, passage_id: str, declaration: Declaration,
                     reason: str, lane_id: str | None = None) -> None:
    """Store the declaration and the refusal of an identifiable passage (files not kept)."""
    sha = _store_declaration(services, passage_id, declaration, lane_id)
    services.evidence.record_inference(passage_id, ANSWER_MODEL, VERSION, sha,
                                       {"passage_id": passage_id, "rejected": reason})


def load_answer(services: Services, passage_id: str) -> dict[str, Any]:
    """The stored answer of a passage (its last ``gate_passage`` evidence entry).

    Raises :class:`UnknownCase` when no passage with that id was recorded."""
    view = services.evidence.case(passage_id)
    for rec in reversed(view["records"]):
        payload = rec.payload
        if rec.event is EvidenceEvent.INFERENCE and payload.get("model", {}).get(
                "name") == ANSWER_MODEL:
            data: dict[str, Any] = json.loads(services.evidence.get_object(
                payload["output_sha256"]))
            return data
    raise UnknownCase(f"case {passage_id!r} is not a gate passage")
