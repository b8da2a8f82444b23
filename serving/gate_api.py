"""Gate inference API: ``POST /v1/passages`` (images + declaration -> decision) and
``GET /v1/passages/{id}``, role ``gate``.

Wiring (the composition roots own it):

- ``create_app``: ``app.include_router(gate_api.build_router())``;
- whoever holds a Triton client (``kouan serve``, tests): ``gate_api.attach(app, client)``.
  Without it ``POST`` answers 503.

Handlers validate, call :class:`pipelines.gate.passage.PassagePipeline` and shape the answer.
Bad input answers 4xx with a reason: 422 for a malformed declaration, a non-image, an
unsupported format or truncated data; 413 for too many files, too many bytes or too many
pixels. Once the declaration is valid the passage is identified, so its files are stored as
evidence even when an image is then refused.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import (
    APIRouter,
    Depends,
    FastAPI,
    File,
    Form,
    HTTPException,
    Path,
    Request,
    UploadFile,
    status,
)
from pydantic import ValidationError

from kouan.api.security import get_services, require
from kouan.auth import Principal, Role
from kouan.domain.models import Declaration, new_id
from kouan.errors import UsageError
from kouan.evidence.errors import UnknownCase
from pipelines.gate.images import MAX_IMAGE_BYTES, ImageTooLarge
from pipelines.gate.models import PassageAnswer
from pipelines.gate.ocr import GateOcr
from pipelines.gate.passage import (
    MAX_IMAGES,
    GateImage,
    PassagePipeline,
    load_answer,
    record_rejection,
)
from serving.client import InferenceClient

_ID = r"^[A-Za-z0-9._:-]{1,128}$"
STATE_KEY = "gate_pipeline"
_lock = threading.Lock()


def attach(app: FastAPI, client: InferenceClient) -> None:
    """Give the gate routes an inference client (Triton); the pipeline is built lazily."""
    app.state.gate_client = client
    app.state.gate_pipeline = None


def _pipeline(request: Request) -> PassagePipeline:
    state = request.app.state
    client = getattr(state, "gate_client", None)
    if client is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            "no inference server attached to the gate API (start it with "
                            "`kouan serve`, which connects KOUAN_TRITON_URL or embedded Triton)")
    with _lock:
        if getattr(state, STATE_KEY, None) is None:
            setattr(state, STATE_KEY, PassagePipeline(GateOcr.from_repository(client),
                                                      get_services(request)))
        pipeline: PassagePipeline = getattr(state, STATE_KEY)
    return pipeline


def _declaration(text: str) -> Declaration:
    try:
        return Declaration.model_validate_json(text)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'declaration'}: {e['msg']}"
                             for e in exc.errors())
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"malformed declaration: {problems}") from None


def _read(files: list[UploadFile], role: str) -> list[GateImage]:
    out = []
    for i, f in enumerate(files):
        name = f"{role}_images[{i}]" + (f" ({f.filename})" if f.filename else "")
        data = f.file.read(MAX_IMAGE_BYTES + 1)
        out.append(GateImage(name=name[:200], role=role, data=data))
    return out


def build_router() -> APIRouter:
    router = APIRouter(prefix="/v1/passages", tags=["gate"])

    @router.post("", response_model=PassageAnswer, responses={
        413: {"description": "too many files, bytes or pixels"},
        422: {"description": "malformed declaration, non-image, unsupported or truncated file"},
        503: {"description": "no inference server"}})
    def create_passage(
        request: Request,
        declaration: str = Form(description="Declaration JSON: plate, trailer_plate, "
                                "container_numbers, goods (kouan.domain.models.Declaration)"),
        plate_images: list[UploadFile] = File(default=[], description="tractor/trailer plate "
                                              "camera images (JPEG, PNG, BMP, WEBP)"),
        container_images: list[UploadFile] = File(default=[], description="container camera "
                                                  "images; several views of one container "
                                                  "are voted"),
        passage_id: str | None = Form(default=None, pattern=_ID,
                                      description="client id; a retry with the same id returns "
                                      "the stored answer"),
        lane_id: str | None = Form(default=None, pattern=_ID),
        time_budget_ms: int = Form(default=3000, ge=100, le=60_000,
                                   description="reading budget: images not started by "
                                   "then are skipped (unreadable -> inspect) and the container "
                                   "reader does not escalate to finer passes past it"),
        _: Principal = Depends(require(Role.GATE)),
    ) -> PassageAnswer:
        """Read plates and container codes, match them against the declaration and decide
        ``clear`` / ``hold`` / ``inspect``. Mismatches become review findings with alarms.
        Everything received is stored as evidence under the passage id."""
        decl = _declaration(declaration)
        services = get_services(request)
        if passage_id is not None:  # a retry: answer what was decided the first time
            try:
                stored = load_answer(services, passage_id)
            except UnknownCase:
                stored = None
            if stored is not None and "rejected" in stored:
                raise HTTPException(status.HTTP_409_CONFLICT,
                                    f"passage {passage_id} was refused earlier "
                                    f"({stored['rejected']}); send it with a new passage_id")
            if stored is not None:
                return PassageAnswer.model_validate(stored)
        if not plate_images and not container_images:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                "no images: send plate_images and/or container_images")
        pid = passage_id or new_id("psg")
        for files, role in ((plate_images, "plate"), (container_images, "container")):
            if len(files) > MAX_IMAGES:
                reason = f"{len(files)} {role} images; at most {MAX_IMAGES} per passage"
                record_rejection(services, pid, decl, reason, lane_id)
                raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"passage {pid}: {reason}")
        images = _read(plate_images, "plate") + _read(container_images, "container")
        pipeline = _pipeline(request)
        try:
            return pipeline.run(pid, decl, images, lane_id=lane_id,
                                time_budget_ms=float(time_budget_ms))
        except ImageTooLarge as exc:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                                f"passage {pid}: {exc}") from None
        except UsageError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                f"passage {pid}: {exc}") from None

    @router.get("/{passage_id}", response_model=PassageAnswer,
                responses={404: {"description": "unknown passage"},
                           409: {"description": "the passage was refused (bad input)"}})
    def get_passage(request: Request, passage_id: str = Path(pattern=_ID),
                    _: Principal = Depends(require(Role.GATE, Role.SUPERVISOR, Role.AUDITOR))
                    ) -> PassageAnswer:
        """The answer given for a passage, as stored in the evidence ledger."""
        try:
            stored: dict[str, Any] = load_answer(get_services(request), passage_id)
        except UnknownCase:
            raise HTTPException(status.HTTP_404_NOT_FOUND,
                                f"unknown passage {passage_id!r}") from None
        if "rejected" in stored:
            raise HTTPException(status.HTTP_409_CONFLICT,
                                f"passage {passage_id} was refused: {stored['rejected']}")
        return PassageAnswer.model_validate(stored)

    return router
