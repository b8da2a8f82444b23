"""The fast hash paths agree with the reference canonical hash, and never accept a change."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from kouan.db.base import Base
from kouan.domain import EvidenceEvent
from kouan.evidence.canonical import (
    HASHED_FIELDS,
    canonical_json,
    entry_hash,
    entry_hash_from_columns,
    entry_hash_from_line_bytes,
    normalise_payload,
)
from kouan.evidence.keys import KeySigner
from kouan.evidence.ledger import Ledger


def _random_payload(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    leaves: list[Any] = [rng.randint(-10**12, 10**12), rng.random() * 1e6, None, True,
                         "蒙A·12345", 'q"uote\\back\nline', "plain", "\u2028"]
    out: dict[str, Any] = {}
    for i in range(rng.randint(0, 5)):
        if depth < 2 and rng.random() < 0.3:
            out[f"k{i}"] = _random_payload(rng, depth + 1)
        elif rng.random() < 0.2:
            out[f"l{i}"] = [rng.choice(leaves) for _ in range(3)]
        else:
            out[f"ключ{i}" if rng.random() < 0.2 else f"k{i}"] = rng.choice(leaves)
    return out


@pytest.mark.parametrize("seed", range(40))
def test_fast_hashes_match_reference(seed: int) -> None:
    rng = random.Random(seed)
    payload, text = normalise_payload(_random_payload(rng))
    line: dict[str, Any] = {
        "seq": rng.randint(0, 10**9), "event": "finding", "case_id": "psg-a.b:c",
        "at": "2026-11-30T08:00:00.123456Z", "payload": payload, "prev_hash": "ab" * 32}
    ref = entry_hash(line)
    assert entry_hash_from_columns(line["seq"], "finding", "psg-a.b:c", line["at"], text,
                                   "ab" * 32) == ref
    line.update(entry_hash=ref, signature="c2lnbmF0dXJl+/==")
    raw = canonical_json(line)
    assert entry_hash_from_line_bytes(raw, line) == ref
    # A changed byte gives the stored hash back only if the signed fields are unchanged
    # (the entry_hash/signature fields themselves are checked elsewhere).
    for _ in range(40):
        pos = rng.randrange(len(raw))
        tampered = bytearray(raw)
        tampered[pos] ^= 0x04
        try:
            parsed = json.loads(bytes(tampered))
        except ValueError:
            continue
        if not isinstance(parsed, dict):
            continue
        if entry_hash_from_line_bytes(bytes(tampered), parsed) == ref:
            assert all(parsed.get(k) == line[k] for k in HASHED_FIELDS)


def test_non_canonical_layout_falls_back() -> None:
    line = {"seq": 1, "event": "finding", "case_id": "c", "at": "t", "payload": {},
            "prev_hash": "0" * 64, "entry_hash": "1" * 64, "signature": "s"}
    assert entry_hash_from_line_bytes(json.dumps(line).encode(), line) is None


def test_append_works_on_a_create_all_schema() -> None:
    """Schemas made by ``create_all`` (no migration, so no head row) still append."""
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    sessions = sessionmaker(engine)
    ledger = Ledger(KeySigner())
    with sessions.begin() as s:
        a = ledger.append(s, EvidenceEvent.FINDING, "c", {})
    with sessions.begin() as s:
        b = ledger.append(s, EvidenceEvent.FINDING, "c", {})
    assert (a.seq, b.seq, b.prev_hash) == (0, 1, a.entry_hash)
