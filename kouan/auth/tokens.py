"""Token issue and lookup. Tokens are 256-bit random secrets; only their sha256 is stored.

A plain sha256 (not a slow password hash) is right here: the secret has full entropy, so
brute force is infeasible, and lookup must be one indexed query per request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kouan.db.tokens import TokenRow
from kouan.domain import new_id, utcnow

TOKEN_PREFIX = "kouan_"


class Role(StrEnum):
    GATE = "gate"
    REVIEWER = "reviewer"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    ENGINEER = "engineer"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """Who is calling: token id, role and the human-readable name given at creation."""

    token_id: str
    role: Role
    name: str

    def has(self, *roles: Role) -> bool:
        """Admin may do everything; anyone else needs one of ``roles``."""
        return self.role is Role.ADMIN or self.role in roles


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenStore:
    """Creates, checks and revokes API tokens in the ``api_tokens`` table."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def create(self, role: Role, name: str = "") -> tuple[str, str]:
        """Issue a token; return ``(token_id, secret)``. The secret is shown once, never stored."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = new_id("tok")
        with self._sessions.begin() as s:
            s.add(TokenRow(id=token_id, token_sha256=_digest(secret), role=role.value,
                           name=name or role.value, created_at=utcnow(), revoked=False))
        return token_id, secret

    def authenticate(self, secret: str) -> Principal | None:
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            return None
        digest = _digest(secret)
        with self._sessions() as s:
            row = s.scalar(select(TokenRow).where(TokenRow.token_sha256 == digest))
        if row is None or row.revoked or not hmac.compare_digest(row.token_sha256, digest):
            return None
        return Principal(token_id=row.id, role=Role(row.role), name=row.name)

    def revoke(self, token_id: str) -> bool:
        with self._sessions.begin() as s:
            row = s.get(TokenRow, token_id)
            if row is None:
                return False
            row.revoked = True
            return True

    def list(self) -> list[tuple[str, str, str, bool]]:
        """``(id, role, name, revoked)`` for every token, oldest first."""
        with self._sessions() as s:
            rows = s.scalars(select(TokenRow).order_by(TokenRow.created_at)).all()
            return [(r.id, r.role, r.name, r.revoked) for r in rows]
