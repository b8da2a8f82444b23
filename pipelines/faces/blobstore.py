"""A *mutable* object store for face data (galleries, index blobs, probes).

The evidence store is write-once by design (Object Lock); biometric data must be deletable
(removal from a watchlist, probe retention), so faces live apart from it:

* ``file://<data_dir>/evidence`` (embedded default) -> ``<data_dir>/faces`` on disk;
* ``s3://host:port/bucket`` -> bucket ``<bucket>-faces`` on the same endpoint, no Object Lock.

Keys are ``/``-separated relative paths checked like evidence keys. Writes replace atomically.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from minio import Minio
from minio.error import S3Error, ServerError
from urllib3.exceptions import HTTPError

from kouan.config import Settings
from kouan.errors import ServiceUnavailable
from kouan.evidence.errors import ObjectNotFound
from kouan.evidence.factory import parse_s3_url
from kouan.evidence.s3 import make_http_client
from kouan.evidence.store import check_key, check_prefix

_NOT_FOUND = {"NoSuchKey", "NoSuchObject", "NotFound", "ResourceNotFound"}
_TRANSPORT = (HTTPError, OSError, ServerError)


class BlobStore(Protocol):
    """Put (replace), get, delete, list. Missing keys raise :class:`ObjectNotFound`."""

    url: str

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> bool:
        """Remove ``key``; False when it was not there."""
        ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys under ``prefix``, sorted."""
        ...


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.url = f"file://{self.root}"

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFound(f"no object {key!r} in {self.url}") from None

    def delete(self, key: str) -> bool:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            return False
        return True

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> Iterator[str]:
        check_prefix(prefix)
        if not self.root.is_dir():
            return iter(())
        keys = []
        for dirpath, _, files in os.walk(self.root):
            for name in files:
                if name.startswith("."):
                    continue
                rel = Path(dirpath, name).relative_to(self.root).as_posix()
                if rel.startswith(prefix):
                    keys.append(rel)
        return iter(sorted(keys))


class S3BlobStore:
    """One bucket (created on first write if missing, without Object Lock)."""

    def __init__(self, endpoint: str, bucket: str, access_key: str, secret_key: str, *,
                 secure: bool = False) -> None:
        self.bucket = bucket
        self.url = f"s3://{endpoint}/{bucket}"
        self.client = Minio(endpoint, access_key=access_key or None,
                            secret_key=secret_key or None, secure=secure,
                            http_client=make_http_client(connect_timeout_s=3.0,
                                                         read_timeout_s=60.0, secure=secure))
        self._bucket_ok = False

    def _down(self, exc: BaseException) -> ServiceUnavailable:
        return ServiceUnavailable(f"face store {self.url} unavailable: {type(exc).__name__}: "
                                  f"{str(exc)[:200]}")

    def _err(self, exc: S3Error, what: str) -> ServiceUnavailable:
        return ServiceUnavailable(f"face store {self.url}: {what}: {exc.code}: {exc.message}")

    def _ensure_bucket(self) -> None:
        if self._bucket_ok:
            return
        try:
            if not self.client.bucket_exists(self.bucket):
                try:
                    self.client.make_bucket(self.bucket)
                except S3Error as exc:
                    if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                        raise self._err(exc, "make_bucket") from None
        except S3Error as exc:
            raise self._err(exc, "bucket_exists") from None
        except _TRANSPORT as exc:
            raise self._down(exc) from None
        self._bucket_ok = True

    def put(self, key: str, data: bytes) -> None:
        check_key(key)
        self._ensure_bucket()
        try:
            self.client.put_object(self.bucket, key, io.BytesIO(data), len(data),
                                   content_type="application/octet-stream")
        except S3Error as exc:
            raise self._err(exc, f"put {key!r}") from None
        except _TRANSPORT as exc:
            raise self._down(exc) from None

    def get(self, key: str) -> bytes:
        check_key(key)
        try:
            resp = self.client.get_object(self.bucket, key)
            try:
                return bytes(resp.read())
            finally:
                resp.close()
                resp.release_conn()
        except S3Error as exc:
            if exc.code in _NOT_FOUND or exc.code == "NoSuchBucket":
                raise ObjectNotFound(f"no object {key!r} in {self.url}") from None
            raise self._err(exc, f"get {key!r}") from None
        except _TRANSPORT as exc:
            raise self._down(exc) from None

    def exists(self, key: str) -> bool:
        check_key(key)
        try:
            self.client.stat_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in _NOT_FOUND or exc.code == "NoSuchBucket":
                return False
            raise self._err(exc, f"stat {key!r}") from None
        except _TRANSPORT as exc:
            raise self._down(exc) from None
        return True

    def delete(self, key: str) -> bool:
        if not self.exists(key):
            return False
        try:
            self.client.remove_object(self.bucket, key)
        except S3Error as exc:
            raise self._err(exc, f"delete {key!r}") from None
        except _TRANSPORT as exc:
            raise self._down(exc) from None
        return True

    def list(self, prefix: str = "") -> Iterator[str]:
        check_prefix(prefix)
        try:
            names = [o.object_name for o in self.client.list_objects(
                self.bucket, prefix=prefix or None, recursive=True)]
        except S3Error as exc:
            if exc.code == "NoSuchBucket":
                return iter(())
            raise self._err(exc, f"list {prefix!r}") from None
        except _TRANSPORT as exc:
            raise self._down(exc) from None
        return iter(sorted(n for n in names if n is not None))


def open_face_store(settings: Settings) -> BlobStore:
    """The face store next to the configured evidence store (see module docstring)."""
    url = settings.resolved_evidence_url
    if url.startswith("s3://"):
        endpoint, bucket = parse_s3_url(url)
        return S3BlobStore(endpoint, f"{bucket[:57]}-faces", settings.s3_access_key,
                           settings.s3_secret_key, secure=settings.s3_secure)
    if url.startswith("file://") and unquote(urlsplit(url).path) == str(
            settings.data_dir / "evidence"):
        return LocalBlobStore(settings.data_dir / "faces")
    evidence_dir = Path(unquote(urlsplit(url).path))
    return LocalBlobStore(evidence_dir.parent / f"{evidence_dir.name}-faces")
