"""Concurrent appends from many threads produce one gap-free chain (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from kouan.domain import EvidenceEvent
from kouan.evidence.chain import ChainChecker
from kouan.evidence.keys import KeySigner
from kouan.evidence.ledger import Ledger, head, iter_lines
from kouan.evidence.report import VerifyReport


def test_concurrent_appends_chain_without_gaps(db_sessions: sessionmaker[Session]) -> None:
    signer = KeySigner()
    ledger = Ledger(signer)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(25):
                with db_sessions.begin() as s:
                    ledger.append(s, EvidenceEvent.FINDING, f"case-{n}", {"i": i})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with db_sessions() as s:
        lines = list(iter_lines(s))
        assert head(s)[0] == 99
    assert [ln["seq"] for ln in lines] == list(range(100))
    report = VerifyReport(target="db")
    chain = ChainChecker(signer.public_key(), report)
    for ln in lines:
        chain.add(ln, "database")
    chain.finish(expect_through=99)
    assert report.ok, report.text()
    assert report.signatures_verified == 100


def test_rolled_back_append_leaves_no_gap(db_sessions: sessionmaker[Session]) -> None:
    ledger = Ledger(KeySigner())
    with db_sessions.begin() as s:
        ledger.append(s, EvidenceEvent.FINDING, "c", {"n": 0})
    s2 = db_sessions()
    s2.begin()
    ledger.append(s2, EvidenceEvent.FINDING, "c", {"n": "rolled back"})
    s2.rollback()
    s2.close()
    with db_sessions.begin() as s:
        rec = ledger.append(s, EvidenceEvent.FINDING, "c", {"n": 1})
    assert rec.seq == 1
    with db_sessions() as s:
        assert [ln["payload"]["n"] for ln in iter_lines(s)] == [0, 1]


def test_seal_and_verify_on_both_databases(db_sessions: sessionmaker[Session],
                                           tmp_path: Path) -> None:
    from sqlalchemy import text

    from kouan.evidence.service import EvidenceService
    from kouan.evidence.store import LocalObjectStore
    from tests.unit.evidence.helpers import populate

    svc = EvidenceService(LocalObjectStore(tmp_path / "ev", 1 << 20), KeySigner(), db_sessions,
                          retention_days=1, segment_max_records=5)
    populate(svc, cases=2, captures=3)  # 12 entries -> 3 segments
    assert len(svc.seal()) == 3
    assert svc.verify().ok
    with db_sessions.begin() as s:
        s.execute(text("UPDATE ledger_entries SET case_id = 'psg-9' WHERE seq = 7"))
    report = svc.verify()
    assert ("ledger seq 7", "hash_mismatch") in {(p.where, p.kind) for p in report.problems}
