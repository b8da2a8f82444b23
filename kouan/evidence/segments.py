"""Ledger segments: sealed ranges of entries written to the store as immutable JSONL objects.

A segment is one record per line (canonical JSON of the entry, as in
:data:`kouan.evidence.ledger.Line`) followed by one seal line::

    {"segment_seal": {"v": 1, "first_seq", "last_seq", "count", "prev_hash", "last_hash",
                      "records_sha256"}, "signature": base64}

``records_sha256`` is the sha256 of every byte before the seal line; the signature is Ed25519
over the sha256 of the canonical seal. The sealer verified every entry's hash, link and
signature before signing the seal, so a segment whose seal verifies vouches for all its entry
signatures with one signature check; the verifier still recomputes every entry hash and link,
and falls back to checking each signature when a seal does not verify (or with ``--full``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kouan.evidence.canonical import canonical_json
from kouan.evidence.keys import Signer, encode_signature, signature_ok
from kouan.evidence.ledger import Line

SEAL_VERSION = 1
LINE_FIELDS = {"seq": int, "event": str, "case_id": str, "at": str, "payload": dict,
               "prev_hash": str, "entry_hash": str, "signature": str}
_LINE_KEYS = set(LINE_FIELDS)
_DECODER = json.JSONDecoder()


def check_line(obj: Any) -> str | None:
    """None if ``obj`` has exactly the fields of a ledger line with the right types, else why."""
    if not isinstance(obj, dict):
        return "not a JSON object"
    if obj.keys() != _LINE_KEYS:
        missing = sorted(set(LINE_FIELDS) - set(obj))
        extra = sorted(set(obj) - set(LINE_FIELDS))
        return f"fields differ (missing {missing}, unexpected {extra})"
    # One expression for the common case (this runs once per record in verify).
    if (type(obj["seq"]) is int and type(obj["payload"]) is dict and type(obj["event"]) is str
            and type(obj["case_id"]) is str and type(obj["at"]) is str
            and type(obj["prev_hash"]) is str and type(obj["entry_hash"]) is str
            and type(obj["signature"]) is str):
        return None
    name, typ = next((n, t) for n, t in LINE_FIELDS.items() if type(obj[n]) is not t)
    return f"field {name!r} is not {typ.__name__}"


def seal_digest(seal: dict[str, Any]) -> bytes:
    return hashlib.sha256(canonical_json(seal)).digest()


def build_segment(lines: list[Line], signer: Signer) -> bytes:
    """Segment bytes for consecutive ``lines`` (deterministic: same lines, same bytes)."""
    if not lines:
        raise ValueError("a segment needs at least one entry")
    records = b"".join(canonical_json(ln) + b"\n" for ln in lines)
    seal = {"v": SEAL_VERSION, "first_seq": lines[0]["seq"], "last_seq": lines[-1]["seq"],
            "count": len(lines), "prev_hash": lines[0]["prev_hash"],
            "last_hash": lines[-1]["entry_hash"],
            "records_sha256": hashlib.sha256(records).hexdigest()}
    sig = encode_signature(signer.sign(seal_digest(seal)))
    return records + canonical_json({"segment_seal": seal, "signature": sig}) + b"\n"


@dataclass
class ParsedSegment:
    """A segment split into entries (1-based line number, parsed, raw bytes), unparseable
    lines and the seal."""

    key: str
    lines: list[tuple[int, Line, bytes]] = field(default_factory=list)
    bad_lines: list[tuple[int, str]] = field(default_factory=list)
    seal: dict[str, Any] | None = None
    seal_signature: str | None = None
    records_sha256: str = ""


def parse_segment(key: str, data: bytes) -> ParsedSegment:
    """Parse without trusting anything; problems are collected, never raised."""
    seg = ParsedSegment(key=key)
    raw_lines = data.split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    records_end = len(data)
    if raw_lines:
        try:
            last = json.loads(raw_lines[-1])
        except ValueError:
            last = None
        if isinstance(last, dict) and "segment_seal" in last:
            if isinstance(last.get("segment_seal"), dict):
                seg.seal = last["segment_seal"]
            sig = last.get("signature")
            seg.seal_signature = sig if isinstance(sig, str) else None
            raw_lines.pop()
            records_end = sum(len(r) + 1 for r in raw_lines)
    seg.records_sha256 = hashlib.sha256(data[:records_end]).hexdigest()
    for n, raw in enumerate(raw_lines, start=1):
        try:
            obj = _DECODER.decode(raw.decode("utf-8"))  # skips json.loads' encoding sniffing
        except ValueError as exc:  # includes UnicodeDecodeError
            seg.bad_lines.append((n, f"not valid JSON ({exc.__class__.__name__})"))
            continue
        why = check_line(obj)
        if why is not None:
            seg.bad_lines.append((n, why))
        else:
            seg.lines.append((n, obj, raw))
    return seg


def seal_problem(seg: ParsedSegment, key_range: tuple[int, int] | None,
                 public_key: Ed25519PublicKey) -> str | None:
    """None when the seal is present, signed by ``public_key`` and matches the records."""
    seal = seg.seal
    if seal is None or seg.seal_signature is None:
        return "seal line missing or malformed"
    if seal.get("v") != SEAL_VERSION:
        return f"unknown seal version {seal.get('v')!r}"
    if not signature_ok(public_key, seal_digest(seal).hex(), seg.seal_signature):
        return "seal signature does not verify"
    if seal.get("records_sha256") != seg.records_sha256:
        return "records changed since sealing (records_sha256 mismatch)"
    if key_range is not None and (seal.get("first_seq"), seal.get("last_seq")) != key_range:
        return f"seal covers {seal.get('first_seq')}-{seal.get('last_seq')}, key says {key_range}"
    return None
