"""HTTP routes of the review workstation (``/v1/review``) and the browser UI (``/ui``).

Handlers validate, call :class:`~annotation.workstation.ReviewWorkstation` and shape the
answer. Roles: ``reviewer`` (and ``supervisor``) work the queue; TIP settings and statistics
are ``supervisor`` only; ``admin`` passes everywhere (see :func:`kouan.api.security.require`).
Errors: unknown item/image/view 404, conflicts (not your claim, lease lost, decided, stale
labels) 409, malformed input 422, content that is no image 415.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import Scope

from annotation.boxes import LabelBox
from annotation.media import UnknownImage
from annotation.references import UnknownChapter, reference_chapters, reference_png
from annotation.scan_decode import UnsupportedObject
from annotation.triage import LABEL_CLASSES, REASON_CODES, SLA_SECONDS
from annotation.views import UnknownView, raw16
from annotation.workstation import ReviewWorkstation
from kouan.api.security import get_services, require
from kouan.auth import Principal, Role
from kouan.domain import FindingType, Modality, ReviewDecision, ReviewStatus, Severity, utcnow
from kouan.queue import QueueFilter

T = TypeVar("T")
UI_DIR = Path(__file__).with_name("ui")
_ID = r"^[A-Za-z0-9._:-]{1,128}$"
_KEY = r"^[0-9a-f]{64}$"
_lock = threading.Lock()

REVIEW = (Role.REVIEWER, Role.SUPERVISOR)
NO_STORE = {"Cache-Control": "no-store"}


def workstation(request: Request) -> ReviewWorkstation:
    """The app's workstation, built on first use from the app's services."""
    ws: ReviewWorkstation | None = getattr(request.app.state, "review_workstation", None)
    if ws is None:
        with _lock:
            ws = getattr(request.app.state, "review_workstation", None)
            if ws is None:
                svc = get_services(request)
                ws = ReviewWorkstation(svc.queue, svc.evidence, svc.sessions)
                request.app.state.review_workstation = ws
    return ws


def _call(fn: Callable[[], T]) -> T:
    """Map viewer errors to HTTP (queue errors are mapped by the app's handlers)."""
    try:
        return fn()
    except (UnknownImage, UnknownView, UnknownChapter) as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc.args[0])) from None
    except UnsupportedObject as exc:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, str(exc)) from None
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


# Module level: FastAPI resolves these (string) annotations in the module's namespace.
Reviewer = Annotated[Principal, Depends(require(*REVIEW))]
Supervisor = Annotated[Principal, Depends(require(Role.SUPERVISOR))]
WS = Annotated[ReviewWorkstation, Depends(workstation)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClaimBody(_Body):
    lease_s: float | None = Field(default=None, gt=0, le=4 * 3600,
                                  description="lease length (default 300 s)")


class QueueFilterBody(_Body):
    severity: list[Severity] | None = None
    min_severity: Severity | None = None
    port_id: str | None = Field(default=None, pattern=_ID)
    lane_id: str | None = Field(default=None, pattern=_ID)
    modality: Modality | None = None
    type: FindingType | None = None


class ClaimNextBody(ClaimBody):
    filter: QueueFilterBody = Field(default_factory=QueueFilterBody)


class DecisionBody(_Body):
    decision: ReviewDecision
    reason_code: str = Field(min_length=1, max_length=64)
    notes: str | None = Field(default=None, max_length=4000)


class LabelsBody(_Body):
    image: str = Field(pattern=_KEY, description="image key (sha256) from the item's images")
    base_revision: int = Field(ge=0, description="revision the edit started from (0: none)")
    boxes: list[LabelBox] = Field(max_length=500)


class TipBody(_Body):
    rate: float = Field(ge=0.0, le=0.5, description="fraction of claims with a projected threat")


def _filter(statuses: str | None, severity: str | None, min_severity: Severity | None,
            port_id: str | None, lane_id: str | None, modality: Modality | None,
            type_: FindingType | None, case_id: str | None, older_than_s: float | None,
            newer_than_s: float | None) -> QueueFilter:
    def parse(text: str | None, cls: Any, what: str) -> frozenset[Any] | None:
        if not text:
            return None
        try:
            return frozenset(cls(v.strip()) for v in text.split(",") if v.strip())
        except ValueError:
            raise ValueError(f"unknown {what} in {text!r}; choose from "
                             f"{', '.join(x.value for x in cls)}") from None

    now = utcnow()
    return QueueFilter(
        statuses=parse(statuses, ReviewStatus, "status"),
        severities=parse(severity, Severity, "severity"), min_severity=min_severity,
        port_id=port_id, lane_id=lane_id, modality=modality, finding_type=type_,
        case_id=case_id,
        created_before=now - timedelta(seconds=older_than_s) if older_than_s else None,
        created_after=now - timedelta(seconds=newer_than_s) if newer_than_s else None)


def build_router() -> APIRouter:
    router = APIRouter(prefix="/v1/review", tags=["review"])

    @router.get("/items")
    def list_items(
        ws: WS, _: Reviewer,
        status_: Annotated[str | None, Query(alias="status", max_length=200,
                                             description="comma list, e.g. queued,claimed")]
        = None,
        severity: Annotated[str | None, Query(max_length=200)] = None,
        min_severity: Severity | None = None,
        port_id: Annotated[str | None, Query(pattern=_ID)] = None,
        lane_id: Annotated[str | None, Query(pattern=_ID)] = None,
        modality: Modality | None = None,
        type: FindingType | None = None,
        case_id: Annotated[str | None, Query(pattern=_ID)] = None,
        older_than_s: Annotated[float | None, Query(gt=0, le=1e9)] = None,
        newer_than_s: Annotated[float | None, Query(gt=0, le=1e9)] = None,
        order: Literal["priority", "oldest", "newest"] = "priority",
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    ) -> dict[str, Any]:
        """A page of the queue (most severe, then oldest first by default) and the total."""
        filt = _call(lambda: _filter(status_, severity, min_severity, port_id, lane_id,
                                     modality, type, case_id, older_than_s, newer_than_s))
        return _call(lambda: ws.page(filt, order=order, limit=limit, offset=offset))

    @router.post("/claim-next")
    def claim_next(ws: WS, p: Reviewer, body: ClaimNextBody | None = None) -> Response:
        """Claim the most urgent claimable item (204 when the queue is empty)."""
        b = body or ClaimNextBody()
        f = b.filter
        filt = QueueFilter(severities=frozenset(f.severity) if f.severity else None,
                           min_severity=f.min_severity, port_id=f.port_id, lane_id=f.lane_id,
                           modality=f.modality, finding_type=f.type)
        got = _call(lambda: ws.claim_next(p.name, filt, b.lease_s))
        if got is None:
            return Response(status_code=status.HTTP_204_NO_CONTENT)
        return JSONResponse(got)

    @router.get("/items/{item_id}")
    def get_item(item_id: str, ws: WS, p: Reviewer) -> dict[str, Any]:
        """The item, its finding, images (keys and views), labels, declarations, history."""
        return _call(lambda: ws.detail(item_id, p.name))

    @router.post("/items/{item_id}/claim")
    def claim(item_id: str, ws: WS, p: Reviewer, body: ClaimBody | None = None) -> dict[str, Any]:
        """Take (or renew) the lease on the item."""
        return _call(lambda: ws.claim(item_id, p.name, body.lease_s if body else None))

    @router.post("/items/{item_id}/release")
    def release(item_id: str, ws: WS, p: Reviewer) -> dict[str, Any]:
        """Give the item back to the queue."""
        return _call(lambda: ws.release(item_id, p.name))

    @router.post("/items/{item_id}/decision")
    def decide(item_id: str, body: DecisionBody, ws: WS, p: Reviewer) -> dict[str, Any]:
        """Confirm, dismiss or escalate an item you hold (reason code from /meta)."""
        return _call(lambda: ws.decide(item_id, p.name, body.decision, body.reason_code,
                                       body.notes))

    @router.put("/items/{item_id}/labels")
    def put_labels(item_id: str, body: LabelsBody, ws: WS, p: Reviewer) -> dict[str, Any]:
        """Replace the boxes of one image of an item you hold (a new revision)."""
        return _call(lambda: ws.save_labels(item_id, p.name, body.image, body.boxes,
                                            body.base_revision))

    @router.get("/items/{item_id}/labels/{image}/history")
    def label_history(item_id: str, image: str, ws: WS, _: Reviewer) -> list[dict[str, Any]]:
        """Every saved revision of one image's boxes, oldest first."""
        ws.queue.get(item_id)  # 404 for an unknown item
        return [r.as_json() for r in _call(lambda: ws.labels.history(item_id, image))]

    @router.get("/items/{item_id}/images/{image}/views/{view}.png", response_class=Response)
    def view_png(item_id: str, image: str, view: str, ws: WS, p: Reviewer) -> Response:
        """One rendered view of an image (pseudo_colour, organic_only, ..., mip_axial)."""
        def render() -> bytes:
            return ws.media.view_png(ws.image(item_id, p.name, image), view)

        return Response(_call(render), media_type="image/png", headers=NO_STORE)

    @router.get("/items/{item_id}/images/{image}/raw16", response_class=Response)
    def raw(item_id: str, image: str, ws: WS, p: Reviewer) -> Response:
        """The 16-bit data for window/level: little-endian uint16, row-major, X-Width x
        X-Height."""
        def get() -> tuple[bytes, int, int]:
            arr = raw16(ws.image(item_id, p.name, image))
            return arr.astype("<u2", copy=False).tobytes(), arr.shape[1], arr.shape[0]

        data, w, h = _call(get)
        return Response(data, media_type="application/octet-stream",
                        headers={**NO_STORE, "X-Width": str(w), "X-Height": str(h)})

    @router.get("/items/{item_id}/images/{image}/tiles/{view}/{level}/{tx}/{ty}.png",
                response_class=Response)
    def tile(item_id: str, image: str, view: str, level: int, tx: int, ty: int, ws: WS,
             p: Reviewer) -> Response:
        """A 256 px tile of a view at ``level`` (the view downscaled by 2**level)."""
        def get() -> bytes:
            return ws.media.tile_png(ws.image(item_id, p.name, image), view, level, tx, ty)

        return Response(_call(get), media_type="image/png", headers=NO_STORE)

    @router.get("/references/{chapter}.png", response_class=Response)
    def reference(chapter: str, _: Reviewer) -> Response:
        """A generated reference scan of a load of HS chapter ``chapter``."""
        data, seed = _call(lambda: reference_png(chapter))
        return Response(data, media_type="image/png",
                        headers={"Cache-Control": "max-age=86400", "X-Synthetic-Seed": str(seed)})

    @router.get("/meta")
    def meta(p: Reviewer) -> dict[str, Any]:
        """Reason codes, SLA targets, label classes, reference chapters and who you are."""
        return {"me": p.name, "role": p.role.value,
                "reason_codes": {d.value: list(c) for d, c in REASON_CODES.items()},
                "sla_s": {s.value: v for s, v in SLA_SECONDS.items()},
                "label_classes": list(LABEL_CLASSES),
                "reference_chapters": reference_chapters()}

    @router.get("/supervisor/tip")
    def tip_status(ws: WS, _: Supervisor) -> dict[str, Any]:
        """TIP rate and per-reviewer hit/miss statistics."""
        return {"settings": ws.tip.settings(), "reviewers": ws.tip.stats()}

    @router.put("/supervisor/tip")
    def tip_configure(body: TipBody, ws: WS, p: Supervisor) -> dict[str, Any]:
        """Set the TIP rate (0 turns projection off)."""
        return _call(lambda: ws.tip.set_rate(body.rate, p.name))

    return router


class UiFiles(StaticFiles):
    """The UI's static files with a policy that forbids anything not served by this app (no
    CDN, no external fonts: the page must work on an offline port network)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        resp = await super().get_response(path, scope)
        resp.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; "
            "script-src 'self'; connect-src 'self'; font-src 'self'; frame-ancestors 'none'")
        resp.headers["X-Content-Type-Options"] = "nosniff"
        return resp


def install(app: FastAPI) -> None:
    """Add the review API and serve the UI under ``/ui`` (``/`` redirects there)."""
    app.include_router(build_router())
    app.mount("/ui", UiFiles(directory=UI_DIR, html=True), name="ui")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/")
