"""``create_app(settings, services)``: the HTTP composition root."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI
from sqlalchemy import text

from annotation.routes import install as install_review
from kouan.api.errors import install_error_handlers
from kouan.api.evidence_routes import build_router as evidence_router
from kouan.api.security import require
from kouan.auth import Principal, Role
from kouan.config import Settings
from kouan.domain.schema import domain_json_schemas
from kouan.services import Services
from serving.faces_api import build_router as faces_router
from serving.gate_api import build_router as gate_router


def create_app(settings: Settings, services: Services) -> FastAPI:
    """Build the API around already-built ``services`` (the caller owns their lifetime)."""
    app = FastAPI(
        title="Kouan",
        version="0.1.0",
        description="Inspection services for land border ports: gate inference, review queue, "
        "evidence. Every route except /healthz and /readyz needs a bearer token.",
    )
    app.state.settings = settings
    app.state.services = services
    install_error_handlers(app)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    def readyz() -> dict[str, str]:
        """Readiness: the database answers a query."""
        with services.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ready"}

    @app.get("/v1/whoami", tags=["auth"])
    def whoami(p: Principal = Depends(require(*Role))) -> dict[str, str]:
        return {"token_id": p.token_id, "role": p.role.value, "name": p.name}

    @app.get("/v1/schemas", tags=["domain"])
    def schemas(_: Principal = Depends(require(*Role))) -> dict[str, Any]:
        """JSON Schema of every domain type."""
        return domain_json_schemas()

    app.include_router(evidence_router())
    app.include_router(gate_router())
    app.include_router(faces_router())
    install_review(app)  # /v1/review API and the /ui browser UI
    return app
