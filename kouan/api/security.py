"""The one authentication dependency every non-health route uses."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kouan.auth import Principal, Role
from kouan.services import Services

_bearer = HTTPBearer(auto_error=False, description="API token from `kouan token create`")


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def require(*roles: Role) -> Callable[..., Principal]:
    """Dependency: a valid bearer token whose role is one of ``roles`` (admin always passes).

    401 when the token is missing or unknown, 403 when the role is not allowed.
    """

    def dependency(
        request: Request,
        creds: HTTPAuthorizationCredentials | None = Depends(_bearer),
    ) -> Principal:
        if creds is None or creds.scheme.lower() != "bearer":
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing bearer token",
                                headers={"WWW-Authenticate": "Bearer"})
        principal = get_services(request).tokens.authenticate(creds.credentials)
        if principal is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown or revoked token",
                                headers={"WWW-Authenticate": "Bearer"})
        if not principal.has(*roles):
            allowed = ", ".join(r.value for r in roles) or "admin"
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"role {principal.role.value!r} may not do this (needs: {allowed})")
        request.state.principal = principal
        return principal

    return dependency
