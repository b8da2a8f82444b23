"""Canonical JSON and the entry hash that every ledger signature covers.

Canonical JSON: ``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
allow_nan=False)`` encoded as UTF-8. Python's float ``repr`` round-trips, so parsing canonical
JSON and dumping it again gives the same bytes; that is what lets a verifier recompute a hash
from a stored line.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first entry (seq 0)."""

HASHED_FIELDS = ("seq", "event", "case_id", "at", "payload", "prev_hash")
"""The fields of a ledger entry covered by ``entry_hash`` (and so by its signature)."""

_AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def canonical_json(obj: Any) -> bytes:
    """UTF-8 canonical JSON of ``obj``; ``ValueError`` for NaN/inf or non-JSON types."""
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False).encode("utf-8")
    except TypeError as exc:
        raise ValueError(f"not JSON-serialisable: {exc}") from None


def normalise_payload(payload: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """``(payload as a verifier will parse it, its canonical text)``.

    Tuples become lists and so on; hashing the parsed-back form means the hash a writer computes
    equals the one a reader recomputes from the stored text.
    """
    if not isinstance(payload, dict):
        raise ValueError("payload must be a JSON object (dict)")
    text = canonical_json(payload).decode("utf-8")
    return json.loads(text), text


def format_at(at: datetime) -> str:
    """Fixed-width UTC timestamp with microseconds, e.g. ``2026-11-30T08:00:00.000000Z``.

    Stored as text so that the hashed string survives any database round trip unchanged.
    """
    if at.tzinfo is None:
        raise ValueError("ledger timestamps must be timezone-aware")
    return at.astimezone(UTC).strftime(_AT_FORMAT)


def parse_at(text: str) -> datetime:
    return datetime.strptime(text, _AT_FORMAT).replace(tzinfo=UTC)


def entry_hash(body: dict[str, Any]) -> str:
    """Lowercase hex sha256 of the canonical JSON of the :data:`HASHED_FIELDS` of ``body``."""
    return hashlib.sha256(canonical_json({k: body[k] for k in HASHED_FIELDS})).hexdigest()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _js(value: Any) -> bytes:
    """Canonical JSON of one scalar; plain ASCII strings (hashes, ids, times) skip the encoder."""
    if (isinstance(value, str) and value.isascii() and value.isprintable()
            and '"' not in value and "\\" not in value):
        return b'"' + value.encode("ascii") + b'"'
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def entry_hash_from_line_bytes(raw: bytes, line: dict[str, Any]) -> str | None:
    """The entry hash computed by cutting ``entry_hash`` and ``signature`` out of a stored
    canonical line (no re-serialisation); None when ``raw`` is not laid out canonically, in
    which case the caller recomputes with :func:`entry_hash`.

    Canonical JSON sorts keys, so a stored line is the hashed body with
    ``,"entry_hash":"<64 hex>"`` inserted after the ``case_id`` pair and ``,"signature":"S"``
    before the final brace. If cutting them out gives bytes whose sha256 is the stored hash,
    those bytes are exactly the signed body (whatever else was done to the line, the parsed
    fields are then the signed ones: a cut piece that was not a top-level pair would leave the
    line without a top-level ``entry_hash``, which the line check rejects).
    """
    digest, sig = line.get("entry_hash"), line.get("signature")
    if not isinstance(digest, str) or not isinstance(sig, str) or not sig.isascii():
        return None
    piece = b',"entry_hash":"' + digest.encode("ascii", "replace") + b'"'
    tail = b',"signature":"' + sig.encode("ascii") + b'"}'
    i = raw.find(piece)
    if i < 0 or not raw.endswith(tail) or i + len(piece) > len(raw) - len(tail):
        return None
    return hashlib.sha256(raw[:i] + raw[i + len(piece):len(raw) - len(tail)] + b"}").hexdigest()


def entry_hash_from_columns(seq: int, event: str, case_id: str, at: str, payload_text: str,
                            prev_hash: str) -> str:
    """The entry hash from database columns, using the stored canonical payload text as is."""
    plain = at + case_id + event + prev_hash
    if plain.isascii() and plain.isprintable() and '"' not in plain and "\\" not in plain:
        text = (f'{{"at":"{at}","case_id":"{case_id}","event":"{event}","payload":{payload_text},'
                f'"prev_hash":"{prev_hash}","seq":{int(seq)}}}')
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
    body = (b'{"at":' + _js(at) + b',"case_id":' + _js(case_id) + b',"event":' + _js(event)
            + b',"payload":' + payload_text.encode("utf-8") + b',"prev_hash":' + _js(prev_hash)
            + b',"seq":' + str(int(seq)).encode("ascii") + b"}")
    return hashlib.sha256(body).hexdigest()
