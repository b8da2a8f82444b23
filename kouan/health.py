"""The shape every component health check returns (``kouan doctor``, ``/readyz``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Backend = Literal["embedded", "external"]


@dataclass(frozen=True)
class ComponentStatus:
    component: str
    backend: Backend
    target: str
    ok: bool
    detail: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)
