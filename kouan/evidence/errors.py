"""Errors of the evidence store, each mapped to a CLI exit code and an HTTP status.

``UsageError`` subclasses (exit 2, HTTP 4xx) mean the request was wrong and nothing was written;
``ServiceUnavailable`` (exit 1, HTTP 503) means the store could not be reached.
"""

from __future__ import annotations

from kouan.errors import KouanError, ServiceUnavailable, UsageError


class InvalidObjectKey(UsageError):
    """An object key with ``..``/``.`` segments, a leading ``/``, empty segments or control
    characters (HTTP 400)."""


class ObjectTooLarge(UsageError):
    """An object larger than ``settings.evidence_max_object_bytes`` (HTTP 413)."""


class ObjectNotFound(UsageError):
    """No object under that key (HTTP 404)."""


class UnknownCase(UsageError):
    """No ledger entry names that case id (HTTP 404)."""


class MalformedLedger(UsageError):
    """A ledger file or bundle that cannot be parsed at all (exit 2)."""


class ObjectConflict(KouanError):
    """An immutable key already holds different bytes; the stored object is left untouched."""


class LedgerCorrupt(KouanError):
    """The database ledger is inconsistent (bad hash, link or signature); sealing stops there."""


class StoreUnavailable(ServiceUnavailable):
    """The S3 endpoint did not answer (connection refused, timeout, 5xx)."""
