"""A store wrapper that never loses a write while the real (S3) store is down.

When the inner store raises :class:`StoreUnavailable`, the object is written durably to a
spool directory (``<data_dir>/evidence-spool/<bucket>``) and the put succeeds. Reads and
``exists`` see spooled objects. ``flush()`` uploads the spool in arrival order and removes each
file only after the upload succeeded; it runs on the next successful put and from
``kouan evidence flush``. Several processes may share one spool: every file name is derived
from the key, uploads are idempotent and removals tolerate a concurrent flusher.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kouan.evidence.errors import ObjectConflict, StoreUnavailable
from kouan.evidence.store import ObjectStore, check_key, check_prefix, check_size

log = logging.getLogger(__name__)


class SpoolingObjectStore:
    """``inner`` plus a local spool; ``retry_after_s`` is how long to skip the inner store after
    it failed (so a dead endpoint does not cost a connect timeout per write)."""

    def __init__(self, inner: ObjectStore, spool_dir: Path, *, max_object_bytes: int,
                 retry_after_s: float = 5.0) -> None:
        self.inner = inner
        self.spool_dir = Path(spool_dir)
        self.max_object_bytes = max_object_bytes
        self.retry_after_s = retry_after_s
        self.url = inner.url
        self._down_until = 0.0
        self._flush_lock = threading.Lock()

    # -- spool files: <name>.bin holds the bytes, <name>.json (written last) commits it
    def _name(self, key: str) -> str:
        return hashlib.sha256(key.encode("utf-8")).hexdigest()

    def _spooled(self, key: str) -> Path | None:
        meta = self.spool_dir / f"{self._name(key)}.json"
        return meta if meta.exists() else None

    def _write_spool(self, key: str, data: bytes, retention_days: int | None) -> None:
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        name = self._name(key)
        existing = self._spooled(key)
        if existing is not None:
            if (self.spool_dir / f"{name}.bin").read_bytes() != bytes(data):
                raise ObjectConflict(f"object {key!r} is already spooled with different content")
            return
        meta = {"key": key, "retention_days": retention_days, "spooled_at": time.time(),
                "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for suffix, payload in ((".bin", bytes(data)), (".json", json.dumps(meta).encode())):
            tmp = self.spool_dir / f".{name}{suffix}.{uuid.uuid4().hex}.tmp"
            with open(tmp, "wb") as f:
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.spool_dir / f"{name}{suffix}")
        dir_fd = os.open(self.spool_dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        log.warning("evidence store %s unavailable; spooled %s (%d bytes)", self.url, key,
                    len(data))

    def _metas(self) -> list[dict[str, Any]]:
        if not self.spool_dir.is_dir():
            return []
        out = []
        for p in self.spool_dir.glob("*.json"):
            try:
                m = json.loads(p.read_text())
            except (OSError, ValueError):
                continue  # removed by a concurrent flush, or a half-written tmp renamed away
            m["_name"] = p.stem
            out.append(m)
        return sorted(out, key=lambda m: (m["spooled_at"], m["key"]))

    def pending(self) -> int:
        """Number of objects waiting in the spool."""
        return len(self._metas())

    # -- ObjectStore
    def put(self, key: str, data: bytes, retention_days: int | None = None) -> bool:
        check_key(key)
        check_size(key, data, self.max_object_bytes)
        if time.monotonic() >= self._down_until:
            try:
                written = self.inner.put(key, data, retention_days)
            except StoreUnavailable:
                self._down_until = time.monotonic() + self.retry_after_s
            else:
                if self.spool_dir.is_dir() and any(self.spool_dir.glob("*.json")):
                    # If it went down again, the rest stays spooled for the next try.
                    with contextlib.suppress(StoreUnavailable):
                        self.flush()
                return written
        self._write_spool(key, data, retention_days)
        return True

    def get(self, key: str) -> bytes:
        meta = self._spooled(check_key(key))
        if meta is not None:
            try:
                return (self.spool_dir / f"{meta.stem}.bin").read_bytes()
            except FileNotFoundError:
                pass  # flushed meanwhile: read it from the inner store
        return self.inner.get(key)

    def exists(self, key: str) -> bool:
        return self._spooled(check_key(key)) is not None or self.inner.exists(key)

    def list(self, prefix: str = "") -> Iterator[str]:
        check_prefix(prefix)
        keys = set(self.inner.list(prefix))
        keys.update(m["key"] for m in self._metas() if m["key"].startswith(prefix))
        return iter(sorted(keys))

    def flush(self) -> int:
        """Upload every spooled object (oldest first); return how many were uploaded.

        Stops at the first :class:`StoreUnavailable` (re-raised) and leaves the rest spooled.
        """
        done = 0
        with self._flush_lock:
            for m in self._metas():
                name = m["_name"]
                try:
                    data = (self.spool_dir / f"{name}.bin").read_bytes()
                except FileNotFoundError:
                    continue  # another process flushed it
                if hashlib.sha256(data).hexdigest() != m["sha256"]:
                    raise ObjectConflict(f"spooled object {m['key']!r} is damaged "
                                         f"({self.spool_dir / name}.bin); left in place")
                try:
                    self.inner.put(m["key"], data, m.get("retention_days"))
                except StoreUnavailable:
                    self._down_until = time.monotonic() + self.retry_after_s
                    raise
                # Meta first: once it is gone the object no longer counts as spooled.
                (self.spool_dir / f"{name}.json").unlink(missing_ok=True)
                (self.spool_dir / f"{name}.bin").unlink(missing_ok=True)
                done += 1
        if done:
            log.info("flushed %d spooled evidence object(s) to %s", done, self.url)
        self._down_until = 0.0
        return done
