"""Where scans come from: a local folder (recursively) or an S3 prefix.

``s3://host:port/bucket/prefix`` is listed with the MinIO client (credentials
``KOUAN_S3_ACCESS_KEY`` / ``KOUAN_S3_SECRET_KEY``, TLS with ``KOUAN_S3_SECURE``) and the objects
are downloaded under a local staging folder, keeping their relative names so raw pairs and
JSON sidecars stay together.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from kouan.config import Settings
from kouan.errors import ServiceUnavailable, UsageError
from pipelines.scan.decode import SCAN_SUFFIXES, ScanRef, scan_refs

MAX_OBJECTS = 100_000


def _wanted(name: str) -> bool:
    return name.lower().endswith((*SCAN_SUFFIXES, ".json")) and not name.startswith(".")


def folder_files(root: Path) -> list[Path]:
    if not root.is_dir():
        raise UsageError(f"{root} is not a directory")
    return sorted(p for p in root.rglob("*") if p.is_file() and _wanted(p.name)
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


def parse_s3_prefix(url: str) -> tuple[str, str, str]:
    """``s3://host:port/bucket/prefix`` -> (endpoint, bucket, prefix)."""
    parts = urlsplit(url)
    path = parts.path.lstrip("/")
    bucket, _, prefix = path.partition("/")
    if parts.scheme != "s3" or not parts.netloc or not bucket:
        raise UsageError(f"{url!r} must look like s3://host:port/bucket[/prefix]")
    return parts.netloc, bucket, prefix


def s3_download(url: str, settings: Settings, staging: Path) -> Path:
    """Download every scan object under the prefix into ``staging``; returns the local root."""
    from minio import Minio
    from minio.error import S3Error
    from urllib3.exceptions import HTTPError

    endpoint, bucket, prefix = parse_s3_prefix(url)
    client = Minio(endpoint, access_key=settings.s3_access_key,
                   secret_key=settings.s3_secret_key, secure=settings.s3_secure)
    root = staging / bucket
    try:
        n = 0
        for obj in client.list_objects(bucket, prefix=prefix or None, recursive=True):
            name = obj.object_name or ""
            if obj.is_dir or not _wanted(Path(name).name):
                continue
            rel = Path(name)
            if rel.is_absolute() or ".." in rel.parts:
                continue  # never write outside the staging folder
            n += 1
            if n > MAX_OBJECTS:
                raise UsageError(f"more than {MAX_OBJECTS} objects under {url}")
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            client.fget_object(bucket, name, str(target))
    except S3Error as exc:
        raise UsageError(f"{url}: {exc.code}: {exc.message}") from None
    except (HTTPError, OSError) as exc:
        raise ServiceUnavailable(f"S3 at {endpoint} unreachable: {exc}") from None
    return root


def list_scans(src: str, settings: Settings, staging: Path) -> list[ScanRef]:
    """Scans under a folder path or an ``s3://`` prefix."""
    if src.startswith("s3://"):
        root = s3_download(src, settings, staging)
        return scan_refs(folder_files(root)) if root.is_dir() else []
    path = Path(src)
    if path.is_file():
        return scan_refs([path])
    return scan_refs(folder_files(path))
