"""Auditor access to the evidence store: case manifests with their ledger slice, objects and the
ledger's public key. Handlers only validate, call :class:`EvidenceService` and shape answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response, status

from kouan.api.security import get_services, require
from kouan.auth import Principal, Role
from kouan.errors import KouanError, ServiceUnavailable, UsageError
from kouan.evidence.errors import ObjectNotFound, ObjectTooLarge, UnknownCase

T = TypeVar("T")
_ID = r"^[A-Za-z0-9._:-]{1,128}$"
_SHA = r"^[0-9a-f]{64}$"


def _call(fn: Callable[[], T]) -> T:
    """Map evidence errors to HTTP: unknown -> 404, too large -> 413, bad input -> 400,
    store down -> 503."""
    try:
        return fn()
    except (UnknownCase, ObjectNotFound) as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except ObjectTooLarge as exc:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, str(exc)) from None
    except UsageError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    except ServiceUnavailable as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    except KouanError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None


def build_router() -> APIRouter:
    router = APIRouter(prefix="/v1/evidence", tags=["evidence"])

    @router.get("/cases/{case_id}")
    def get_case(request: Request,
                 case_id: str = Path(pattern=_ID, description="passage, scan or event id"),
                 _: Principal = Depends(require(Role.AUDITOR))) -> dict[str, Any]:
        """The case manifest (objects with sha256, role, media type, size) and every ledger
        entry of the case (hash-chained, Ed25519-signed), in seq order."""
        view = _call(lambda: get_services(request).evidence.case(case_id))
        return {"case_id": view["case_id"], "manifest": view["manifest"],
                "records": [r.model_dump(mode="json") for r in view["records"]]}

    @router.get("/objects/{sha256}", response_class=Response)
    def get_object(request: Request, sha256: str = Path(pattern=_SHA),
                   _: Principal = Depends(require(Role.AUDITOR))) -> Response:
        """The bytes of one stored object, named by its sha256."""
        data = _call(lambda: get_services(request).evidence.get_object(sha256))
        return Response(data, media_type="application/octet-stream",
                        headers={"X-Content-SHA256": sha256})

    @router.get("/public-key", response_class=Response)
    def public_key(request: Request,
                   _: Principal = Depends(require(Role.AUDITOR))) -> Response:
        """The Ed25519 public key (PEM) that verifies every ledger signature."""
        pem = _call(lambda: get_services(request).evidence.public_key_pem())
        return Response(pem, media_type="application/x-pem-file")

    return router
