"""The ``ObjectStore`` seam and the embedded local-directory store.

Keys are ``/``-separated relative paths (``objects/sha256/ab/cd/<hex>``,
``ledger/segments/<first>-<last>.jsonl``, ``cases/<case_id>/manifests/<seq>.json``). Objects are
immutable: ``put`` of a key that already holds the same bytes is a no-op, a key that holds other
bytes raises :class:`ObjectConflict`, and no store offers delete.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from kouan.evidence.errors import InvalidObjectKey, ObjectConflict, ObjectNotFound, ObjectTooLarge

MAX_KEY_CHARS = 1024
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f]")
_TMP_DIR = ".kouan-tmp"


class ObjectStore(Protocol):
    """Immutable object storage: write once, read, test, list. Deliberately no delete."""

    url: str
    """Where the store points, for reports (``file:///...`` or ``s3://host:port/bucket``)."""

    def put(self, key: str, data: bytes, retention_days: int | None = None) -> bool:
        """Store ``data`` under ``key``; True if written now, False if already there (same
        bytes). ``retention_days`` asks for COMPLIANCE retention where the backend has it."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; :class:`ObjectNotFound` when absent."""
        ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys starting with ``prefix``, in lexicographic order."""
        ...


def check_key(key: str) -> str:
    """Return ``key`` if it is a safe relative object key, else raise :class:`InvalidObjectKey`."""
    if not isinstance(key, str) or not key:
        raise InvalidObjectKey("object key must be a non-empty string")
    if len(key) > MAX_KEY_CHARS:
        raise InvalidObjectKey(f"object key longer than {MAX_KEY_CHARS} characters")
    bad = _CONTROL_RE.search(key)
    if bad is not None:
        raise InvalidObjectKey(f"object key {key!r} contains control character {bad.group()!r}")
    if key.startswith("/") or "\\" in key or (len(key) > 1 and key[1] == ":"):
        raise InvalidObjectKey(f"object key {key!r} must be a relative path with '/' separators")
    parts = key.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise InvalidObjectKey(f"object key {key!r} has an empty, '.' or '..' segment")
    if parts[0] == _TMP_DIR:
        raise InvalidObjectKey(f"object keys may not start with {_TMP_DIR}/")
    return key


def check_size(key: str, data: bytes, max_bytes: int) -> None:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("object data must be bytes")
    if len(data) > max_bytes:
        raise ObjectTooLarge(f"object {key!r} is {len(data)} bytes; the limit "
                             f"(KOUAN_EVIDENCE_MAX_OBJECT_BYTES) is {max_bytes}")


def check_prefix(prefix: str) -> str:
    """A list prefix: empty, or a key-like string (a trailing ``/`` is allowed)."""
    if prefix:
        check_key(prefix.rstrip("/") or "x/")
    return prefix


class LocalObjectStore:
    """Objects as read-only files under ``root`` (the embedded default, same layout as S3).

    Writes go to a temporary file that is fsync'ed and then hard-linked into place, so a key
    appears complete or not at all and an existing file is never replaced. Retention is not
    enforceable on a plain directory; files are made read-only (0444) as a guard against
    accidents, not against an administrator.
    """

    def __init__(self, root: Path, max_object_bytes: int) -> None:
        self.root = Path(root)
        self._root = str(self.root)
        self.max_object_bytes = max_object_bytes
        self.url = f"file://{self.root}"

    def _path(self, key: str) -> Path:
        return Path(self._os_path(key))

    def _os_path(self, key: str) -> str:
        # Plain strings: pathlib's parsing dominated verify time for many small manifests.
        return os.path.join(self._root, *check_key(key).split("/"))

    def put(self, key: str, data: bytes, retention_days: int | None = None) -> bool:
        path = self._path(key)
        check_size(key, data, self.max_object_bytes)
        if path.exists():
            return self._same_or_conflict(key, path, data)
        tmp_dir = self.root / _TMP_DIR
        tmp_dir.mkdir(parents=True, exist_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = tmp_dir / uuid.uuid4().hex
        try:
            with open(tmp, "xb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o444)
            try:
                os.link(tmp, path)
            except FileExistsError:  # a concurrent writer won the race
                return self._same_or_conflict(key, path, data)
        finally:
            tmp.unlink(missing_ok=True)
        return True

    @staticmethod
    def _same_or_conflict(key: str, path: Path, data: bytes) -> bool:
        if path.read_bytes() != bytes(data):
            raise ObjectConflict(f"object {key!r} already exists with different content; "
                                 "evidence objects are immutable")
        return False

    def get(self, key: str) -> bytes:
        path = self._os_path(key)
        try:
            with open(path, "rb") as f:
                return f.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(f"no object {key!r} in {self.url}") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> Iterator[str]:
        check_prefix(prefix)
        # Walk only the deepest directory the prefix names, then filter by the full prefix.
        base = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self.root.joinpath(*base.split("/")) if base else self.root
        if not start.is_dir():
            return iter(())
        keys: list[str] = []
        for dirpath, dirnames, filenames in os.walk(start):
            rel_dir = Path(dirpath).relative_to(self.root).as_posix()
            if rel_dir == ".":
                rel_dir = ""
                dirnames[:] = [d for d in dirnames if d != _TMP_DIR]
            for name in filenames:
                key = f"{rel_dir}/{name}" if rel_dir else name
                if key.startswith(prefix):
                    keys.append(key)
        return iter(sorted(keys))
