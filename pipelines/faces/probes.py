"""Probe images (faces searched against galleries) kept only for a retention window.

A probe that hits nothing is stored encrypted under ``probes/<epoch seconds>-<probe id>.bin`` and
deleted by :meth:`ProbeStore.purge` once older than ``retention_s``; the time is in the key, so
purging needs neither decryption nor an index. A probe that *does* hit becomes evidence (the
write-once store, referenced by the finding) and its probe blob is deleted at once.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass

from kouan.errors import UsageError
from kouan.evidence.errors import ObjectNotFound
from pipelines.faces.blobstore import BlobStore
from pipelines.faces.crypto import TemplateCipher

PREFIX = "probes/"
_KEY_RE = re.compile(r"^probes/(\d{12})-(prb-[0-9a-f]{24})\.bin$")


@dataclass(frozen=True)
class PurgeReport:
    deleted: int
    kept: int
    cutoff_epoch_s: int


class ProbeStore:
    def __init__(self, store: BlobStore, cipher: TemplateCipher, retention_s: float) -> None:
        if retention_s <= 0:
            raise ValueError(f"retention_s must be > 0, got {retention_s}")
        self.store, self.cipher, self.retention_s = store, cipher, retention_s

    @staticmethod
    def _key(epoch_s: int, probe_id: str) -> str:
        return f"{PREFIX}{epoch_s:012d}-{probe_id}.bin"

    def put(self, data: bytes, now: float | None = None) -> str:
        """Store ``data`` encrypted; returns the new probe id (``prb-`` + 24 hex)."""
        probe_id = f"prb-{secrets.token_hex(12)}"
        key = self._key(int(now if now is not None else time.time()), probe_id)
        self.store.put(key, self.cipher.encrypt(data, key))
        return probe_id

    def _find(self, probe_id: str) -> str:
        if not re.fullmatch(r"prb-[0-9a-f]{24}", probe_id):
            raise UsageError(f"probe id {probe_id!r} is malformed")
        for key in self.store.list(PREFIX):
            if key.endswith(f"-{probe_id}.bin"):
                return key
        raise ObjectNotFound(f"no probe {probe_id} (never stored, or already purged)")

    def get(self, probe_id: str) -> bytes:
        key = self._find(probe_id)
        return self.cipher.decrypt(self.store.get(key), key)

    def delete(self, probe_id: str) -> bool:
        try:
            return self.store.delete(self._find(probe_id))
        except ObjectNotFound:
            return False

    def ids(self) -> list[str]:
        return [m.group(2) for k in self.store.list(PREFIX) if (m := _KEY_RE.match(k))]

    def purge(self, now: float | None = None) -> PurgeReport:
        """Delete every probe stored more than ``retention_s`` before ``now``."""
        cutoff = int((now if now is not None else time.time()) - self.retention_s)
        deleted = kept = 0
        for key in self.store.list(PREFIX):
            m = _KEY_RE.match(key)
            if m is None:
                continue
            if int(m.group(1)) < cutoff:
                self.store.delete(key)
                deleted += 1
            else:
                kept += 1
        return PurgeReport(deleted, kept, cutoff)
