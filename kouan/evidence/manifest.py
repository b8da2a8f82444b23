"""Case manifests, rebuilt from the ledger rather than edited in place.

A manifest is a pure function of the case's ledger entries up to some seq, so it can never
disagree with the signed chain: the verifier rebuilds it and compares. Sealing writes one new
immutable manifest object per sealed segment that touched the case
(``cases/<case_id>/manifests/<seq>.json``, ``<seq>`` = the case's last entry in it; the highest
is current), which fits WORM buckets where an object cannot be overwritten.

Shape::

    {"case_id": str, "as_of_seq": int,
     "entries": [{"seq": int, "event": str, "entry_hash": sha256}, ...],      # seq order
     "objects": [{"sha256", "key", "role", "media_type", "bytes", "seq"}, ...]}  # first use

Objects come from ``payload["objects"]`` of each entry (see :mod:`kouan.evidence.ledger`).
"""

from __future__ import annotations

from bisect import bisect_right
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


class CaseManifests:
    """Every manifest of one case, as of any seq, from its entries (built once, sliced)."""

    def __init__(self, case_id: str, lines: list[Line]) -> None:
        ordered = sorted((ln for ln in lines if ln["case_id"] == case_id),
                         key=lambda ln: ln["seq"])
        self.case_id = case_id
        self.entries = [{"seq": ln["seq"], "event": ln["event"], "entry_hash": ln["entry_hash"]}
                        for ln in ordered]
        self.seqs = [e["seq"] for e in self.entries]
        seen: set[str] = set()
        self.objects: list[dict[str, Any]] = []  # in first-use (seq) order
        for ln in ordered:
            for ref in object_refs(ln):
                sha = ref["sha256"]
                if sha not in seen:
                    seen.add(sha)
                    self.objects.append({"sha256": sha, "key": object_key(sha),
                                         "role": ref.get("role"),
                                         "media_type": ref.get("media_type"),
                                         "bytes": ref.get("bytes"), "seq": ln["seq"]})
        self.object_seqs = [o["seq"] for o in self.objects]

    def as_of(self, seq: int | None = None) -> dict[str, Any]:
        """The manifest over entries with seq <= ``seq`` (all of them when None)."""
        k = len(self.entries) if seq is None else bisect_right(self.seqs, seq)
        j = len(self.objects) if seq is None else bisect_right(self.object_seqs, seq)
        entries = self.entries[:k]
        return {"case_id": self.case_id, "as_of_seq": entries[-1]["seq"] if entries else -1,
                "entries": entries, "objects": self.objects[:j]}


def build_manifest(case_id: str, lines: list[Line]) -> dict[str, Any]:
    """The manifest of ``case_id`` from its entries (any order in; seq order out)."""
    return CaseManifests(case_id, lines).as_of()


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """Stored form: canonical JSON plus a newline (deterministic, so re-sealing is a no-op)."""
    return canonical_json(manifest) + b"\n"
