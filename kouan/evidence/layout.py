"""Where things live in an evidence store (identical for the local directory and S3).

==========================================  ============================================
key                                         content
==========================================  ============================================
``objects/sha256/ab/cd/<hex>``              an immutable object named by its sha256
``ledger/segments/<first>-<last>.jsonl``    sealed ledger entries + a signed seal line
``cases/<case_id>/manifests/<seq>.json``    the case manifest as of ledger entry ``seq``
``ledger/public_key.pem``                   the Ed25519 public key, for auditors
==========================================  ============================================

``<first>``, ``<last>`` and ``<seq>`` are zero-padded to 12 digits so keys sort by number.
"""

from __future__ import annotations

import re

OBJECTS_PREFIX = "objects/sha256/"
SEGMENTS_PREFIX = "ledger/segments/"
CASES_PREFIX = "cases/"
PUBLIC_KEY_KEY = "ledger/public_key.pem"

_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_OBJECT_RE = re.compile(r"^objects/sha256/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})$")
_SEGMENT_RE = re.compile(r"^ledger/segments/(\d{12})-(\d{12})\.jsonl$")
_MANIFEST_RE = re.compile(r"^cases/([A-Za-z0-9._:-]{1,128})/manifests/(\d{12})\.json$")


def is_sha256(value: object) -> bool:
    return isinstance(value, str) and bool(_SHA_RE.match(value))


def object_key(sha256: str) -> str:
    if not is_sha256(sha256):
        raise ValueError(f"{sha256!r} is not a lowercase hex sha256")
    return f"{OBJECTS_PREFIX}{sha256[:2]}/{sha256[2:4]}/{sha256}"


def parse_object_key(key: str) -> str | None:
    """The sha256 an object key names, or None if the key is not a well-formed object key."""
    m = _OBJECT_RE.match(key)
    if m is None or m.group(3)[:2] != m.group(1) or m.group(3)[2:4] != m.group(2):
        return None
    return m.group(3)


def segment_key(first_seq: int, last_seq: int) -> str:
    return f"{SEGMENTS_PREFIX}{first_seq:012d}-{last_seq:012d}.jsonl"


def parse_segment_key(key: str) -> tuple[int, int] | None:
    m = _SEGMENT_RE.match(key)
    return (int(m.group(1)), int(m.group(2))) if m else None


def manifest_key(case_id: str, as_of_seq: int) -> str:
    return f"{CASES_PREFIX}{case_id}/manifests/{as_of_seq:012d}.json"


def parse_manifest_key(key: str) -> tuple[str, int] | None:
    m = _MANIFEST_RE.match(key)
    return (m.group(1), int(m.group(2))) if m else None
