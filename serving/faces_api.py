"""Face API under ``/v1/faces``: galleries, enrolment, 1:N identify, 1:1 verify, staff gate,
blurred views, probe purge.

Roles (admin passes everywhere):

=============================================  ===========================  ==================
route                                          what                         roles
=============================================  ===========================  ==================
``GET/POST /galleries``, ``DELETE /galleries/g``  list / create / delete       supervisor
``POST/DELETE /galleries/g/subjects/id``       enrol photos / remove        supervisor
``POST /galleries/g/rebuild``                  rebuild the FAISS index      supervisor
``POST /galleries/g/identify``                 1:N search (ledgered)        gate, supervisor
``POST /verify``                               1:1 two images (ledgered)    gate, supervisor
``POST /staff/g/badge/verify``                 staff gate check (ledgered)  gate
``POST /liveness``                             attack cues (advisory)       gate, supervisor
``POST /blur``                                 faces redacted, PNG back     every role
``POST /probes/purge``                         retention purge now          supervisor
=============================================  ===========================  ==================

Only identity-needing roles (gate, supervisor) may search; reviewers, auditors and engineers
see faces only through ``/blur``. Wiring: ``create_app`` includes :func:`build_router`; whoever
holds a Triton client calls :func:`attach` (without it the model routes answer 503).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import (
    APIRouter,
    Body,
    Depends,
    FastAPI,
    File,
    Form,
    HTTPException,
    Path,
    Request,
    Response,
    UploadFile,
    status,
)

from kouan.api.security import get_services, require
from kouan.auth import Principal, Role
from pipelines.faces.analyze import FaceInputError
from pipelines.faces.gallery import GalleryKind, UnknownGallery, UnknownSubject
from pipelines.faces.models import TritonFaceModels
from pipelines.faces.service import Actor, FaceService
from serving.client import InferenceClient
from vision.faces.decode import MAX_BYTES

_NAME = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
STATE_KEY = "face_service"
SEARCH_ROLES = (Role.GATE, Role.SUPERVISOR)
_lock = threading.Lock()
T = TypeVar("T")


def attach(app: FastAPI, client: InferenceClient) -> None:
    """Serve the face routes with models behind ``client``; the service is built lazily."""
    app.state.face_client = client
    setattr(app.state, STATE_KEY, None)


def attach_service(app: FastAPI, service: FaceService) -> None:
    """Use an already-built service (tests, the demo)."""
    setattr(app.state, STATE_KEY, service)


def _service(request: Request) -> FaceService:
    state = request.app.state
    with _lock:
        svc: FaceService | None = getattr(state, STATE_KEY, None)
        if svc is None:
            client = getattr(state, "face_client", None)
            if client is None:
                raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                                    "no inference server attached to the face API (`kouan "
                                    "serve` connects KOUAN_TRITON_URL or embedded Triton)")
            services = get_services(request)
            svc = FaceService.from_settings(services.settings, TritonFaceModels(client),
                                            evidence=services.evidence, queue=services.queue)
            setattr(state, STATE_KEY, svc)
    return svc


def _call(fn: Callable[[], T]) -> T:
    """Run a service call; unknown gallery/id -> 404, unusable image -> 422 (other user errors
    reach the app's handler: 400)."""
    try:
        return fn()
    except (UnknownGallery, UnknownSubject) as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except FaceInputError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


def _read(upload: UploadFile, field: str) -> tuple[str, bytes]:
    data = upload.file.read(MAX_BYTES + 1)
    name = upload.filename or field
    if len(data) > MAX_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                            f"{name}: larger than {MAX_BYTES} bytes")
    return name[:200], data


def _actor(p: Principal) -> Actor:
    return Actor(p.name, p.role.value)


def build_router() -> APIRouter:
    router = APIRouter(prefix="/v1/faces", tags=["faces"])
    supervisor = Depends(require(Role.SUPERVISOR))
    searcher = Depends(require(*SEARCH_ROLES))
    unprocessable: dict[int | str, dict[str, Any]] = {
        422: {"description": "not an image, no face, several faces, too small"},
        404: {"description": "unknown gallery or id"},
        503: {"description": "no inference server"}}

    @router.get("/galleries")
    def list_galleries(request: Request, _: Principal = supervisor) -> list[dict[str, Any]]:
        return _service(request).list_galleries()

    @router.post("/galleries", status_code=201)
    def create_gallery(request: Request,
                       name: str = Body(pattern=_NAME, embed=True),
                       kind: GalleryKind = Body(embed=True),
                       _: Principal = supervisor) -> dict[str, Any]:
        return _service(request).create_gallery(name, kind)

    @router.delete("/galleries/{gallery}")
    def delete_gallery(request: Request, gallery: str = Path(pattern=_NAME),
                       p: Principal = supervisor) -> dict[str, Any]:
        return _call(lambda: _service(request).delete_gallery(gallery, _actor(p)))

    @router.post("/galleries/{gallery}/subjects/{subject_id}", responses=unprocessable)
    def enroll(request: Request, gallery: str = Path(pattern=_NAME),
               subject_id: str = Path(pattern=_NAME),
               images: list[UploadFile] = File(description="1-20 photos, one face each"),
               kind: GalleryKind | None = Form(default=None, description="create the gallery "
                                               "with this kind when it does not exist"),
               display_name: str = Form(default="", max_length=200),
               p: Principal = supervisor) -> dict[str, Any]:
        files = [_read(f, f"images[{i}]") for i, f in enumerate(images)]
        return _call(lambda: _service(request).enroll(gallery, subject_id, files, _actor(p),
                                                      kind=kind, display_name=display_name))

    @router.delete("/galleries/{gallery}/subjects/{subject_id}", responses=unprocessable)
    def remove(request: Request, gallery: str = Path(pattern=_NAME),
               subject_id: str = Path(pattern=_NAME), p: Principal = supervisor) -> dict[str, Any]:
        return _call(lambda: _service(request).remove(gallery, subject_id, _actor(p)))

    @router.post("/galleries/{gallery}/rebuild", responses=unprocessable)
    def rebuild(request: Request, gallery: str = Path(pattern=_NAME),
                _: Principal = supervisor) -> dict[str, Any]:
        return _call(lambda: _service(request).rebuild(gallery))

    @router.post("/galleries/{gallery}/identify", responses=unprocessable)
    def identify(request: Request, gallery: str = Path(pattern=_NAME),
                 image: UploadFile = File(), case_id: str | None = Form(default=None,
                                                                         pattern=_NAME),
                 lane_id: str | None = Form(default=None, pattern=_NAME),
                 p: Principal = searcher) -> dict[str, Any]:
        name, data = _read(image, "image")
        return _call(lambda: _service(request).identify(gallery, data, _actor(p), name=name,
                                                        case_id=case_id, lane_id=lane_id))

    @router.post("/verify", responses=unprocessable)
    def verify(request: Request, image_a: UploadFile = File(), image_b: UploadFile = File(),
               p: Principal = searcher) -> dict[str, Any]:
        a, b = _read(image_a, "image_a"), _read(image_b, "image_b")
        return _call(lambda: _service(request).verify(a[1], b[1], _actor(p),
                                                      names=(a[0], b[0])))

    @router.post("/staff/{gallery}/{badge_id}/verify", responses=unprocessable)
    def verify_staff(request: Request, gallery: str = Path(pattern=_NAME),
                     badge_id: str = Path(pattern=_NAME), image: UploadFile = File(),
                     lane_id: str | None = Form(default=None, pattern=_NAME),
                     p: Principal = Depends(require(Role.GATE))) -> dict[str, Any]:
        name, data = _read(image, "image")
        return _call(lambda: _service(request).verify_staff(gallery, badge_id, data, _actor(p),
                                                            name=name, lane_id=lane_id))

    @router.post("/liveness", responses=unprocessable)
    def liveness(request: Request,
                 frames: list[UploadFile] = File(description="1-16 frames of one person, in "
                                                 "time order; 2+ add the motion cue"),
                 p: Principal = searcher) -> dict[str, Any]:
        files = [_read(f, f"frames[{i}]") for i, f in enumerate(frames)]
        return _call(lambda: _service(request).liveness(files, _actor(p)))

    @router.post("/blur", response_class=Response, responses={
        200: {"content": {"image/png": {}}, "description": "the image, faces redacted"}})
    def blur(request: Request, image: UploadFile = File(),
             _: Principal = Depends(require(*Role))) -> Response:
        name, data = _read(image, "image")
        png, regions = _call(lambda: _service(request).blurred(data, name))
        return Response(png, media_type="image/png",
                        headers={"X-Kouan-Faces-Blurred": str(regions)})

    @router.post("/probes/purge")
    def purge(request: Request, _: Principal = supervisor) -> dict[str, Any]:
        return _service(request).purge_probes()

    return router
