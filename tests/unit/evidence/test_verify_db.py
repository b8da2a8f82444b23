"""Tampering with the database ledger (not the store) is detected and named too."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.orm import Session

from kouan.evidence.keys import encode_signature
from kouan.services import Services
from tests.unit.evidence.helpers import populate


def _forge(s: Session) -> None:
    h = s.execute(text("SELECT entry_hash FROM ledger_entries WHERE seq = 5")).scalar_one()
    sig = encode_signature(Ed25519PrivateKey.generate().sign(bytes.fromhex(h)))
    s.execute(text("UPDATE ledger_entries SET signature = :s WHERE seq = 5"), {"s": sig})


def _swap(s: Session) -> None:
    s.execute(text("UPDATE ledger_entries SET seq = -1 WHERE seq = 3"))
    s.execute(text("UPDATE ledger_entries SET seq = 3 WHERE seq = 4"))
    s.execute(text("UPDATE ledger_entries SET seq = 4 WHERE seq = -1"))


def _sql(stmt: str, **params: object) -> Callable[[Session], object]:
    return lambda s: s.execute(text(stmt), params)


DB_TAMPERS: dict[str, tuple[Callable[[Session], object], str, str]] = {
    "edited": (_sql("UPDATE ledger_entries SET payload = :p WHERE seq = 2", p='{"meta":{}}'),
               "ledger seq 2", "hash_mismatch"),
    "deleted": (_sql("DELETE FROM ledger_entries WHERE seq = 6"), "ledger seq 6", "missing"),
    "deleted_last": (_sql("DELETE FROM ledger_entries WHERE seq = 11"),
                     "ledger seq 11", "missing"),
    "reordered": (_swap, "ledger seq 3", "hash_mismatch"),
    "forged_signature": (_forge, "ledger seq 5", "signature_invalid"),
}


@pytest.mark.parametrize("sealed", [False, True], ids=["unsealed", "sealed"])
@pytest.mark.parametrize("kind", sorted(DB_TAMPERS))
def test_database_tampering_is_named(services: Services, kind: str, sealed: bool) -> None:
    ev = services.evidence
    populate(ev, cases=3, captures=2)  # 12 entries
    if sealed:
        ev.seal()
    assert ev.verify().ok
    fn, where, problem = DB_TAMPERS[kind]
    with services.sessions.begin() as s:
        fn(s)
    report = ev.verify()
    assert not report.ok
    assert (where, problem) in {(p.where, p.kind) for p in report.problems}, report.text()
    if sealed:  # the store alone is still intact: the database is what changed
        assert ev.verify(store_url=ev.store.url).ok
