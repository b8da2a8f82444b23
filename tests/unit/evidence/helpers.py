"""Factories and tamper operations shared by the evidence unit and integration tests."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kouan.evidence.keys import encode_signature
from kouan.evidence.layout import SEGMENTS_PREFIX, object_key
from kouan.evidence.s3 import S3ObjectStore
from kouan.evidence.service import EvidenceService
from kouan.evidence.store import LocalObjectStore, ObjectStore


@dataclass
class Populated:
    """What :func:`populate` wrote: capture hashes per case and the record seqs."""

    captures: dict[str, list[str]] = field(default_factory=dict)
    seqs: list[int] = field(default_factory=list)


def populate(svc: EvidenceService, cases: int = 3, captures: int = 2) -> Populated:
    """Cases ``psg-0..`` each with ``captures`` captures and one inference per capture."""
    out = Populated()
    for c in range(cases):
        case = f"psg-{c}"
        out.captures[case] = []
        for i in range(captures):
            data = f"scan {c}/{i} ".encode() + os.urandom(64)
            sha = svc.put_capture(case, data, "image/png", {"lane": f"L{c}", "i": i})
            out.captures[case].append(sha)
            rec = svc.record_inference(case, "xray-det", "1.2.0", sha,
                                       {"boxes": [[1.0, 2.0, 3.0, 4.0]], "score": 0.5 + i / 10})
            out.seqs.append(rec.seq)
    return out


# -- raw access that bypasses the immutable ObjectStore API (what an attacker would do) ------
def raw_write(store: ObjectStore, key: str, data: bytes) -> None:
    if isinstance(store, LocalObjectStore):
        path = store.root.joinpath(*key.split("/"))
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
        path.write_bytes(data)
    elif isinstance(store, S3ObjectStore):
        import io

        store.client.put_object(store.bucket, key, io.BytesIO(data), len(data))
    else:
        raise TypeError(type(store))


def raw_delete(store: ObjectStore, key: str) -> None:
    if isinstance(store, LocalObjectStore):
        store.root.joinpath(*key.split("/")).unlink()
    elif isinstance(store, S3ObjectStore):
        store.client.remove_object(store.bucket, key)
    else:
        raise TypeError(type(store))


def flip_byte(store: ObjectStore, key: str, pos: int = 0) -> None:
    data = bytearray(store.get(key))
    data[pos % len(data)] ^= 0x01
    raw_write(store, key, bytes(data))


def first_segment(store: ObjectStore) -> str:
    return next(iter(store.list(SEGMENTS_PREFIX)))


def edit_segment(store: ObjectStore, fn: Callable[[list[bytes]], list[bytes]]) -> str:
    """Apply ``fn`` to the record lines of the first segment (the seal line is kept)."""
    key = first_segment(store)
    lines = store.get(key).rstrip(b"\n").split(b"\n")
    records, seal = lines[:-1], lines[-1]
    raw_write(store, key, b"\n".join([*fn(records), seal]) + b"\n")
    return key


def _edit_line(records: list[bytes], idx: int, fn: Callable[[dict[str, Any]], None]) -> list[bytes]:
    obj = json.loads(records[idx])
    fn(obj)
    records[idx] = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    return records


# -- the tamper table: name -> (operation, the report 'where' that must be named) -------------
def tamper_flipped_byte(store: ObjectStore, pop: Populated) -> str:
    key = object_key(pop.captures["psg-1"][0])
    flip_byte(store, key, pos=5)
    return f"object {key}"


def tamper_deleted_object(store: ObjectStore, pop: Populated) -> str:
    key = object_key(pop.captures["psg-2"][1])
    raw_delete(store, key)
    return f"object {key}"


def tamper_edited_entry(store: ObjectStore, pop: Populated) -> str:
    edit_segment(store, lambda r: _edit_line(r, 4, lambda o: o["payload"].update(
        meta={"lane": "FORGED", "i": 0})))
    return "ledger seq 4"


def tamper_deleted_entry(store: ObjectStore, pop: Populated) -> str:
    edit_segment(store, lambda r: r[:3] + r[4:])
    return "ledger seq 3"


def tamper_reordered_entries(store: ObjectStore, pop: Populated) -> str:
    edit_segment(store, lambda r: r[:5] + [r[6], r[5]] + r[7:])
    return "ledger seq 5"


def tamper_replayed_entry(store: ObjectStore, pop: Populated) -> str:
    edit_segment(store, lambda r: r[:9] + [r[2]] + r[9:])
    return "ledger seq 2"


def tamper_forged_signature(store: ObjectStore, pop: Populated) -> str:
    other = Ed25519PrivateKey.generate()

    def forge(o: dict[str, Any]) -> None:
        o["signature"] = encode_signature(other.sign(bytes.fromhex(o["entry_hash"])))

    edit_segment(store, lambda r: _edit_line(r, 7, forge))
    return "ledger seq 7"


TAMPERS: dict[str, Callable[[ObjectStore, Populated], str]] = {
    "flipped_byte": tamper_flipped_byte,
    "deleted_object": tamper_deleted_object,
    "edited_entry": tamper_edited_entry,
    "deleted_entry": tamper_deleted_entry,
    "reordered_entries": tamper_reordered_entries,
    "replayed_entry": tamper_replayed_entry,
    "forged_signature": tamper_forged_signature,
}


def local_store_of(svc: EvidenceService) -> LocalObjectStore:
    assert isinstance(svc.store, LocalObjectStore)
    return svc.store


def data_path(tmp: Path, name: str) -> Path:
    p = tmp / name
    p.parent.mkdir(parents=True, exist_ok=True)
    return p
