"""Case manifests, rebuilt from the ledger rather than edited in place.

A manifest is a pure function of the case's ledger entries up to some seq, so it can never
disagree with the signed chain: the verifier rebuilds it and compares. Sealing writes one new
immutable manifest object per sealed segment that touched the case
(``cases/<case_id>/manifests/<seq>.json``; the highest seq is current), which fits WORM
buckets where an object cannot be overwritten.

Shape::

    {"case_id": str, "as_of_seq": int,
     "entries": [{"seq": int, "event": str, "entry_hash": sha256}, ...],      # seq order
     "objects": [{"sha256", "key", "role", "media_type", "bytes", "seq"}, ...]}  # first use

Objects come from ``payload["objects"]`` of each entry (see :mod:`kouan.evidence.ledger`).
"""

from __future__ import annotations

from typing import Any

from kouan.evidence.canonical import canonical_json
from kouan.evidence.layout import is_sha256, object_key
from kouan.evidence.ledger import Line


def object_refs(line: Line) -> list[dict[str, Any]]:
    """The well-formed object references in an entry's payload (others are ignored here; the
    verifier reports them)."""
    refs = line.get("payload", {}).get("objects") if isinstance(line.get("payload"), dict) else None
    if not isinstance(refs, list):
        return []
    return [r for r in refs if isinstance(r, dict) and is_sha256(r.get("sha256"))]


def build_manifest(case_id: str, lines: list[Line]) -> dict[str, Any]:
    """The manifest of ``case_id`` from its entries (any order in; seq order out)."""
    entries = []
    objects: dict[str, dict[str, Any]] = {}
    ordered = sorted((ln for ln in lines if ln["case_id"] == case_id), key=lambda ln: ln["seq"])
    for ln in ordered:
        entries.append({"seq": ln["seq"], "event": ln["event"], "entry_hash": ln["entry_hash"]})
        for ref in object_refs(ln):
            sha = ref["sha256"]
            if sha not in objects:
                objects[sha] = {"sha256": sha, "key": object_key(sha),
                                "role": ref.get("role"), "media_type": ref.get("media_type"),
                                "bytes": ref.get("bytes"), "seq": ln["seq"]}
    return {"case_id": case_id, "as_of_seq": ordered[-1]["seq"] if ordered else -1,
            "entries": entries, "objects": list(objects.values())}


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """Stored form: canonical JSON plus a newline (deterministic, so re-sealing is a no-op)."""
    return canonical_json(manifest) + b"\n"
