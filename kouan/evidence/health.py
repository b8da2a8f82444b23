"""Read-only health of the evidence store, for ``kouan doctor`` and readiness checks."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from kouan.config import Settings
from kouan.errors import KouanError
from kouan.evidence.factory import parse_s3_url, spool_dir_for
from kouan.evidence.s3 import S3ObjectStore
from kouan.health import ComponentStatus


def _status(backend: str, target: str, ok: bool, detail: str) -> ComponentStatus:
    return ComponentStatus("evidence", "embedded" if backend == "embedded" else "external",
                           target, ok, detail)


def _writable_dir(path: Path) -> tuple[bool, str]:
    """Whether ``path`` is (or could be created as) a writable directory; creates nothing."""
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            return False, f"no existing parent of {path}"
        probe = probe.parent
    if not probe.is_dir():
        return False, f"{probe} exists and is not a directory"
    if not os.access(probe, os.W_OK | os.X_OK):
        return False, f"{probe} is not writable"
    return True, ("directory exists and is writable" if probe == path
                  else f"will be created under {probe}")


def evidence_health(settings: Settings, *, timeout_s: float = 2.0) -> ComponentStatus:
    """Check the configured evidence store without writing anything."""
    url = settings.resolved_evidence_url
    if url.startswith("file://"):
        ok, detail = _writable_dir(Path(unquote(urlsplit(url).path)))
        return _status("embedded", url, ok, detail)
    try:
        endpoint, bucket = parse_s3_url(url)
    except KouanError as exc:
        return _status("external", url, False, str(exc))
    store = S3ObjectStore(endpoint, bucket, settings.s3_access_key, settings.s3_secret_key,
                          secure=settings.s3_secure,
                          max_object_bytes=settings.evidence_max_object_bytes,
                          connect_timeout_s=timeout_s, read_timeout_s=timeout_s)
    spool = spool_dir_for(url, settings)
    pending = len(list(spool.glob("*.json"))) if spool.is_dir() else 0
    spooled = f"; {pending} object(s) spooled locally awaiting flush" if pending else ""
    try:
        if not store.bucket_exists():
            return _status("external", url, False, f"bucket {bucket!r} does not exist")
        lock = "Object Lock on (COMPLIANCE retention)" if store.object_lock \
            else "no Object Lock (objects are not WORM-protected)"
    except KouanError as exc:
        return _status("external", url, False, str(exc) + spooled)
    return _status("external", url, True, f"bucket reachable, {lock}{spooled}")
