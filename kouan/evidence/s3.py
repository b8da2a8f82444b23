"""S3 object store through the ``minio`` client (MinIO, SeaweedFS, AWS).

On a bucket created with Object Lock, every object is written with COMPLIANCE retention for
the requested number of days, so not even the bucket owner can delete or shorten it. The
client gets short timeouts and one retry, so an unreachable endpoint fails fast with
:class:`StoreUnavailable` (the spooling wrapper then keeps the write locally).
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator
from datetime import timedelta

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE
from minio.error import S3Error, ServerError
from minio.retention import Retention

from kouan.domain import utcnow
from kouan.evidence.errors import ObjectConflict, ObjectNotFound, StoreUnavailable
from kouan.evidence.store import check_key, check_prefix, check_size

log = logging.getLogger(__name__)

_NOT_FOUND = {"NoSuchKey", "NoSuchObject", "NotFound", "ResourceNotFound"}
_NO_LOCK = {"ObjectLockConfigurationNotFoundError", "ObjectLockConfigurationNotFound",
            "InvalidRequest", "NotImplemented"}
# What a dead, restarting or overloaded endpoint raises through minio/urllib3.
_TRANSPORT_ERRORS = (urllib3.exceptions.HTTPError, OSError, ServerError)


def make_http_client(*, connect_timeout_s: float, read_timeout_s: float,
                     secure: bool) -> urllib3.PoolManager:
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=connect_timeout_s, read=read_timeout_s),
        maxsize=10,
        cert_reqs="CERT_REQUIRED" if secure else "CERT_NONE",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3.Retry(total=1, backoff_factor=0.1, status_forcelist=[502, 503, 504]),
    )


class S3ObjectStore:
    """Objects in one bucket; ``endpoint`` is ``host:port``."""

    def __init__(self, endpoint: str, bucket: str, access_key: str, secret_key: str, *,
                 secure: bool = False, max_object_bytes: int,
                 connect_timeout_s: float = 3.0, read_timeout_s: float = 60.0) -> None:
        self.endpoint = endpoint
        self.bucket = bucket
        self.secure = secure
        self.max_object_bytes = max_object_bytes
        self.url = f"s3://{endpoint}/{bucket}"
        self.client = Minio(endpoint, access_key=access_key or None, secret_key=secret_key or None,
                            secure=secure,
                            http_client=make_http_client(connect_timeout_s=connect_timeout_s,
                                                         read_timeout_s=read_timeout_s,
                                                         secure=secure))
        self._object_lock: bool | None = None

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        return StoreUnavailable(f"S3 endpoint {self.url} unavailable: {type(exc).__name__}: "
                                f"{str(exc)[:200]}")

    @property
    def object_lock(self) -> bool:
        """Whether the bucket has Object Lock enabled (asked once, then cached)."""
        if self._object_lock is None:
            try:
                cfg = self.client.get_object_lock_config(self.bucket)
                self._object_lock = cfg is not None
            except S3Error as exc:
                if exc.code not in _NO_LOCK:
                    raise self._s3_error(exc, "object-lock configuration") from None
                self._object_lock = False
            except _TRANSPORT_ERRORS as exc:
                raise self._unavailable(exc) from None
        return self._object_lock

    def _s3_error(self, exc: S3Error, what: str) -> Exception:
        if exc.code == "NoSuchBucket":
            return StoreUnavailable(f"bucket {self.bucket!r} does not exist at {self.endpoint}")
        return StoreUnavailable(f"S3 error on {what} at {self.url}: {exc.code}: {exc.message}")

    def put(self, key: str, data: bytes, retention_days: int | None = None) -> bool:
        check_key(key)
        check_size(key, data, self.max_object_bytes)
        if self.exists(key):
            if self.get(key) != bytes(data):
                raise ObjectConflict(f"object {key!r} already exists with different content; "
                                     "evidence objects are immutable")
            return False
        retention = None
        if retention_days and self.object_lock:
            retention = Retention(COMPLIANCE, utcnow() + timedelta(days=retention_days))
        try:
            self.client.put_object(self.bucket, key, io.BytesIO(bytes(data)), len(data),
                                   content_type="application/octet-stream", retention=retention)
        except S3Error as exc:
            raise self._s3_error(exc, f"put {key!r}") from None
        except _TRANSPORT_ERRORS as exc:
            raise self._unavailable(exc) from None
        return True

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
            if exc.code in _NOT_FOUND:
                raise ObjectNotFound(f"no object {key!r} in {self.url}") from None
            raise self._s3_error(exc, f"get {key!r}") from None
        except _TRANSPORT_ERRORS as exc:
            raise self._unavailable(exc) from None

    def exists(self, key: str) -> bool:
        check_key(key)
        try:
            self.client.stat_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in _NOT_FOUND:
                return False
            raise self._s3_error(exc, f"stat {key!r}") from None
        except _TRANSPORT_ERRORS as exc:
            raise self._unavailable(exc) from None
        return True

    def list(self, prefix: str = "") -> Iterator[str]:
        check_prefix(prefix)
        try:
            names = [o.object_name for o in
                     self.client.list_objects(self.bucket, prefix=prefix or None, recursive=True)]
        except S3Error as exc:
            raise self._s3_error(exc, f"list {prefix!r}") from None
        except _TRANSPORT_ERRORS as exc:
            raise self._unavailable(exc) from None
        return iter(sorted(n for n in names if n is not None))

    def retention_of(self, key: str) -> Retention | None:
        """The object's retention (None when it has none); used by tests and ``doctor``."""
        try:
            return self.client.get_object_retention(self.bucket, key)
        except S3Error as exc:
            if exc.code in _NO_LOCK | {"NoSuchObjectLockConfiguration"}:
                return None
            raise self._s3_error(exc, f"retention of {key!r}") from None
        except _TRANSPORT_ERRORS as exc:
            raise self._unavailable(exc) from None

    def bucket_exists(self) -> bool:
        try:
            return bool(self.client.bucket_exists(self.bucket))
        except S3Error as exc:
            raise self._s3_error(exc, "bucket_exists") from None
        except _TRANSPORT_ERRORS as exc:
            raise self._unavailable(exc) from None

    def ensure_bucket(self, *, object_lock: bool = False) -> None:
        """Create the bucket if missing (tests, benchmarks, first set-up)."""
        if not self.bucket_exists():
            try:
                self.client.make_bucket(self.bucket, object_lock=object_lock)
            except S3Error as exc:
                if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                    raise self._s3_error(exc, "make_bucket") from None
            self._object_lock = None

