"""``open_store(url, settings)``: turn an evidence URL into an :class:`ObjectStore`.

``file:///abs/path`` -> :class:`LocalObjectStore`; ``s3://host:port/bucket`` ->
:class:`S3ObjectStore` (credentials ``KOUAN_S3_ACCESS_KEY``/``KOUAN_S3_SECRET_KEY``, TLS when
``KOUAN_S3_SECURE``), wrapped in a :class:`SpoolingObjectStore` unless ``spool=False``.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from kouan.config import Settings
from kouan.errors import UsageError
from kouan.evidence.s3 import S3ObjectStore
from kouan.evidence.spool import SpoolingObjectStore
from kouan.evidence.store import LocalObjectStore, ObjectStore

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://host:port/bucket`` -> ``("host:port", "bucket")``; UsageError otherwise."""
    parts = urlsplit(url)
    bucket = parts.path.strip("/")
    if parts.scheme != "s3" or not parts.netloc or "@" in parts.netloc:
        raise UsageError(f"evidence URL {url!r} must look like s3://host:port/bucket "
                         "(credentials go in KOUAN_S3_ACCESS_KEY / KOUAN_S3_SECRET_KEY)")
    if not _BUCKET_RE.match(bucket):
        raise UsageError(f"bucket {bucket!r} in {url!r} must be 3-63 characters of a-z 0-9 . -")
    return parts.netloc, bucket


def s3_store(url: str, settings: Settings) -> S3ObjectStore:
    endpoint, bucket = parse_s3_url(url)
    return S3ObjectStore(endpoint, bucket, settings.s3_access_key, settings.s3_secret_key,
                         secure=settings.s3_secure,
                         max_object_bytes=settings.evidence_max_object_bytes)


def spool_dir_for(url: str, settings: Settings) -> Path:
    endpoint, bucket = parse_s3_url(url)
    return settings.data_dir / "evidence-spool" / f"{endpoint.replace(':', '_')}_{bucket}"


def open_store(url: str, settings: Settings, *, spool: bool = True) -> ObjectStore:
    """The store at ``url``. Nothing is contacted or created until the first operation."""
    if url.startswith("file://"):
        path = Path(unquote(urlsplit(url).path))
        if not path.is_absolute() or urlsplit(url).netloc not in ("", "localhost"):
            raise UsageError(f"evidence URL {url!r} must be file:///absolute/path")
        return LocalObjectStore(path, settings.evidence_max_object_bytes)
    if url.startswith("s3://"):
        store = s3_store(url, settings)
        if not spool:
            return store
        return SpoolingObjectStore(store, spool_dir_for(url, settings),
                                   max_object_bytes=settings.evidence_max_object_bytes)
    raise UsageError(f"evidence URL {url!r} must start with file:// or s3://")
