"""Map user-facing errors to HTTP statuses in one place, so routes never answer 500 for bad input.

Lookup walks the exception's MRO, so a subclass without an entry inherits its parent's status.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from kouan.errors import KouanError, ServiceUnavailable, UsageError
from kouan.evidence.errors import (
    LedgerCorrupt,
    MalformedLedger,
    ObjectConflict,
    ObjectNotFound,
    ObjectTooLarge,
    UnknownCase,
)
from kouan.queue.errors import ReviewConflict, ReviewItemNotFound
from serving.client import InferenceError

HTTP_STATUS: dict[type[BaseException], int] = {
    UsageError: 400,
    MalformedLedger: 422,
    ObjectTooLarge: 413,
    ObjectNotFound: 404,
    UnknownCase: 404,
    ReviewItemNotFound: 404,
    ReviewConflict: 409,
    ObjectConflict: 409,
    ServiceUnavailable: 503,
    InferenceError: 502,
    LedgerCorrupt: 500,
    KouanError: 500,
}


def status_for(exc: BaseException) -> int:
    for cls in type(exc).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 500


def install_error_handlers(app: FastAPI) -> None:
    async def handle(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "error": type(exc).__name__},
                            status_code=status_for(exc))

    app.add_exception_handler(KouanError, handle)
