"""Ledger.append: hash chain, signatures, canonical payloads, bad input leaves nothing behind."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import func, select

from kouan.db.ledger import LedgerEntryRow
from kouan.domain import EvidenceEvent, EvidenceRecord
from kouan.evidence.canonical import GENESIS_HASH, entry_hash, format_at
from kouan.evidence.keys import KeySigner
from kouan.evidence.ledger import Ledger, case_lines, head, iter_lines
from kouan.services import Services


def test_append_chains_and_signs(services: Services) -> None:
    signer = KeySigner()
    ledger = Ledger(signer)
    with services.sessions.begin() as s:
        a = ledger.append(s, EvidenceEvent.CAPTURE_STORED, "psg-1", {"x": (1, 2), "t": "蒙A"})
        b = ledger.append(s, EvidenceEvent.FINDING, "psg-2", {"n": 1.5})
    assert isinstance(a, EvidenceRecord) and (a.seq, b.seq) == (0, 1)
    assert a.prev_hash == GENESIS_HASH and b.prev_hash == a.entry_hash
    assert a.payload == {"x": [1, 2], "t": "蒙A"}  # as a verifier will read it back
    body = {"seq": 0, "event": "capture_stored", "case_id": "psg-1", "at": format_at(a.at),
            "payload": a.payload, "prev_hash": GENESIS_HASH}
    assert entry_hash(body) == a.entry_hash
    signer.public_key().verify(base64.b64decode(a.signature), bytes.fromhex(a.entry_hash))
    with services.sessions() as s:
        lines = list(iter_lines(s))
        assert [ln["entry_hash"] for ln in lines] == [a.entry_hash, b.entry_hash]
        assert all(entry_hash(ln) == ln["entry_hash"] for ln in lines)
        assert [ln["seq"] for ln in case_lines(s, "psg-2")] == [1]
        assert head(s) == (1, b.entry_hash)


@pytest.mark.parametrize(("event", "case_id", "payload"), [
    ("no_such_event", "psg-1", {}),
    (EvidenceEvent.FINDING, "../etc", {}),
    (EvidenceEvent.FINDING, "a b", {}),
    (EvidenceEvent.FINDING, "", {}),
    (EvidenceEvent.FINDING, "psg-1", {"x": float("nan")}),
    (EvidenceEvent.FINDING, "psg-1", {"x": object()}),
    (EvidenceEvent.FINDING, "psg-1", ["not", "a", "dict"]),
])
def test_bad_input_raises_value_error_and_writes_nothing(services: Services, event: object,
                                                          case_id: str, payload: object) -> None:
    ledger = Ledger(KeySigner())
    with pytest.raises(ValueError), services.sessions.begin() as s:
        ledger.append(s, event, case_id, payload)  # type: ignore[arg-type]
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(LedgerEntryRow)) == 0
        assert head(s)[0] == -1
