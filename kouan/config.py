"""Service settings: one pydantic-settings class, read from ``KOUAN_*`` environment variables.

Reach it through :func:`get_settings`; nothing is built at import time. Every backend has an
embedded default so ``kouan demo`` runs on one machine with nothing set up by hand:

============  =====================================  =========================================
concern       embedded default (field left unset)    real service
============  =====================================  =========================================
Triton        ``tritonserver`` from nvidia-pytriton  ``KOUAN_TRITON_URL=grpc://host:8001``
database      SQLite file in the data dir            ``KOUAN_DB_URL=postgresql+psycopg://...``
alarm bus     durable local outbox + local consumer  ``KOUAN_BUS_URL=nats://host:4222``
evidence      local directory in the data dir        ``KOUAN_EVIDENCE_URL=s3://host:port/bucket``
Ray           ``ray.init()`` on this machine         ``KOUAN_RAY_ADDRESS`` (or ``RAY_ADDRESS``)
============  =====================================  =========================================
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "KOUAN_"


class SettingsError(ValueError):
    """Raised when the environment holds an unknown or invalid ``KOUAN_*`` value."""


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "kouan"


class Settings(BaseSettings):
    """All runtime configuration of a Kouan process."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Root for embedded state: SQLite file, local evidence, keys, Triton logs.",
    )
    triton_url: str | None = Field(
        default=None,
        description="External Triton, e.g. grpc://10.0.0.5:8001 or http://10.0.0.5:8000. "
        "Unset: an embedded tritonserver is started on free loopback ports.",
    )
    triton_timeout_s: float = Field(default=10.0, gt=0, le=600, description="Per-request timeout.")
    triton_retries: int = Field(default=2, ge=0, le=10, description="Retries on transport errors.")
    db_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL. Unset: sqlite:///<data_dir>/kouan.db.",
    )
    bus_url: str | None = Field(
        default=None,
        description="nats://host:port for NATS JetStream. Unset: the durable local outbox only.",
    )
    evidence_url: str | None = Field(
        default=None,
        description="s3://host:port/bucket (MinIO, SeaweedFS, AWS) or file:///path. "
        "Unset: file://<data_dir>/evidence.",
    )
    s3_access_key: str = Field(default="", description="S3 access key for evidence_url.")
    s3_secret_key: str = Field(default="", repr=False, description="S3 secret key.")
    s3_secure: bool = Field(default=False, description="Use HTTPS for the S3 endpoint.")
    evidence_retention_days: int = Field(
        default=2555, ge=1, le=36500,
        description="COMPLIANCE retention for objects and ledger segments on Object Lock buckets.",
    )
    evidence_max_object_bytes: int = Field(
        default=512 * 1024 * 1024, gt=0, description="Largest object the evidence store accepts."
    )
    signing_key_file: Path | None = Field(
        default=None,
        description="Ed25519 private key (PEM) that signs ledger entries. "
        "Unset: <data_dir>/keys/ledger_ed25519.pem, created on first use.",
    )
    face_template_key_file: Path | None = Field(
        default=None,
        description="32-byte AES-256-GCM key (raw or 64 hex chars) that encrypts face templates "
        "and probe images at rest. Unset: <data_dir>/keys/face_templates.key, created on "
        "first use (mode 0600).",
    )
    face_match_threshold: float = Field(
        default=0.6, gt=0.0, lt=2.0,
        description="Face embedding distance at or below which two faces are the same person "
        "(dlib's published 0.6; see docs/faces.md for the ROC on real pairs).",
    )
    face_probe_retention_hours: float = Field(
        default=24.0, gt=0.0, le=24.0 * 366,
        description="Face probe images that hit nothing are deleted after this many hours.",
    )
    ray_address: str | None = Field(
        default=None,
        validation_alias=AliasChoices("KOUAN_RAY_ADDRESS", "RAY_ADDRESS"),
        description="Ray cluster address. Unset: a local Ray is started.",
    )
    ray_num_cpus: int | None = Field(default=None, ge=1, description="CPUs for a local Ray.")
    api_host: str = Field(default="127.0.0.1", description="Bind address of `kouan serve`.")
    api_port: int = Field(default=8080, ge=1, le=65535, description="Port of `kouan serve`.")
    port_code: str = Field(default="ERENHOT", min_length=2, max_length=32,
                           description="Code of the port this node serves (used in bus subjects).")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("triton_url")
    @classmethod
    def _check_triton_url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("grpc://", "http://", "https://")):
            raise ValueError("must start with grpc://, http:// or https://")
        return v

    @field_validator("bus_url")
    @classmethod
    def _check_bus_url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("nats://", "tls://")):
            raise ValueError("must start with nats:// or tls://")
        return v

    @field_validator("evidence_url")
    @classmethod
    def _check_evidence_url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("s3://", "file://")):
            raise ValueError("must start with s3:// or file://")
        return v

    # Derived values: the one place each embedded default is spelled out.
    @property
    def resolved_db_url(self) -> str:
        return self.db_url or f"sqlite:///{self.data_dir / 'kouan.db'}"

    @property
    def resolved_evidence_url(self) -> str:
        return self.evidence_url or f"file://{self.data_dir / 'evidence'}"

    @property
    def resolved_signing_key_file(self) -> Path:
        return self.signing_key_file or self.data_dir / "keys" / "ledger_ed25519.pem"

    @property
    def resolved_face_template_key_file(self) -> Path:
        return self.face_template_key_file or self.data_dir / "keys" / "face_templates.key"


def _unknown_env_names() -> list[str]:
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    return sorted(k for k in os.environ if k.startswith(ENV_PREFIX) and k not in known)


def load_settings() -> Settings:
    """Read settings from the environment now; raise :class:`SettingsError` with one clear line."""
    unknown = _unknown_env_names()
    if unknown:
        valid = ", ".join(sorted(ENV_PREFIX + n.upper() for n in Settings.model_fields))
        raise SettingsError(f"unknown setting(s): {', '.join(unknown)}; valid names: {valid}")
    try:
        return Settings()
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            name = ENV_PREFIX + ".".join(str(p) for p in err["loc"]).upper()
            parts.append(f"{name}={err.get('input')!r}: {err['msg']}")
        raise SettingsError("invalid setting(s): " + "; ".join(parts)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once on first use."""
    return load_settings()
