"""API tokens with roles; one FastAPI dependency guards every non-health route."""

from kouan.auth.tokens import Principal, Role, TokenStore

__all__ = ["Principal", "Role", "TokenStore"]
