"""Fault tests: the PostgreSQL connection drops under the review queue -> retried, no duplicates.

The queue talks to PostgreSQL through a loopback proxy that the test cuts (the server itself
keeps running, as with a broken network path or a killed backend):

- the connection dies just before COMMIT: nothing was stored, the retry stores it once;
- the COMMIT reaches the server but its answer is lost: the retry finds the stored finding
  and returns it instead of inserting a second one;
- connections are cut at random while many findings are submitted.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from kouan.db.alarms import OutboxRow
from kouan.db.engine import make_engine, make_session_factory
from kouan.db.review import FindingRow, ReviewItemRow
from kouan.domain import EvidenceEvent, ReviewDecision
from kouan.evidence.ledger import Ledger
from kouan.queue import ReviewQueue
from tests.fixtures.alarm_path import ledger_rows, make_finding
from tests.fixtures.postgres import PgAdmin, TcpProxy, pg_url

pytestmark = pytest.mark.integration


@pytest.fixture
def proxied(pg_database: str, pg_proxy: TcpProxy) -> Iterator[tuple[Engine, sessionmaker[Session]]]:
    engine = make_engine(pg_url(pg_database, port=pg_proxy.port))
    yield engine, make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def direct(pg_database: str) -> Iterator[sessionmaker[Session]]:
    """Sessions that bypass the proxy, for checking what the server really stored."""
    engine = make_engine(pg_url(pg_database))
    yield make_session_factory(engine)
    engine.dispose()


def _count(sessions: sessionmaker[Session], table: Any) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def _on_first_commits(engine: Engine, n: int, action: Any) -> list[int]:
    """Run ``action()`` at each of the next ``n`` COMMITs on ``engine`` (before it is sent)."""
    fired: list[int] = []

    def on_commit(conn: Any) -> None:
        if len(fired) < n:
            fired.append(1)
            action()

    event.listen(engine, "commit", on_commit)
    return fired


def test_connection_dropped_before_commit_is_retried(
        proxied: tuple[Engine, sessionmaker[Session]], direct: sessionmaker[Session],
        pg_proxy: TcpProxy, ledger: Ledger, caplog: pytest.LogCaptureFixture) -> None:
    engine, sessions = proxied
    queue = ReviewQueue(sessions, ledger)
    fired = _on_first_commits(engine, 1, pg_proxy.drop_all)
    with caplog.at_level(logging.WARNING, "kouan.db.retry"):
        item, alarm = queue.submit_finding(make_finding(), raise_alarm=True)
    assert fired == [1] and "transient database error" in caplog.text
    assert alarm is not None
    for table in (FindingRow, ReviewItemRow, OutboxRow):
        assert _count(direct, table) == 1
    assert len(ledger_rows(direct, EvidenceEvent.FINDING.value)) == 1


def test_commit_whose_answer_was_lost_is_not_duplicated(
        proxied: tuple[Engine, sessionmaker[Session]], direct: sessionmaker[Session],
        pg_proxy: TcpProxy, ledger: Ledger, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    engine, sessions = proxied
    queue = ReviewQueue(sessions, ledger)
    fired = _on_first_commits(engine, 1, lambda: pg_proxy.lose_next_reply(0.2))
    inserts: list[str] = []
    real_insert = queue._insert

    def counting_insert(*args: Any) -> Any:
        inserts.append("insert")
        return real_insert(*args)

    monkeypatch.setattr(queue, "_insert", counting_insert)
    f = make_finding()
    with caplog.at_level(logging.WARNING, "kouan.db.retry"):
        item, alarm = queue.submit_finding(f, raise_alarm=True)
    assert fired == [1] and "transient database error" in caplog.text
    # One INSERT ran (and committed); the retry found the finding instead of inserting again.
    assert inserts == ["insert"]
    with direct() as s:
        stored = s.scalars(select(ReviewItemRow)).one()
        assert s.get_one(FindingRow, f.id) is not None
    # The answer is the first (committed) attempt's item, found again by the retry.
    assert item.id == stored.id
    for table in (FindingRow, ReviewItemRow, OutboxRow):
        assert _count(direct, table) == 1
    assert len(ledger_rows(direct, EvidenceEvent.FINDING.value)) == 1


def test_decision_whose_answer_was_lost_is_recorded_once(
        proxied: tuple[Engine, sessionmaker[Session]], direct: sessionmaker[Session],
        pg_proxy: TcpProxy, ledger: Ledger) -> None:
    engine, sessions = proxied
    queue = ReviewQueue(sessions, ledger)
    item, _ = queue.submit_finding(make_finding())
    queue.claim(item.id, "ana")
    fired = _on_first_commits(engine, 1, lambda: pg_proxy.lose_next_reply(0.2))
    e = queue.decide(item.id, "ana", ReviewDecision.ESCALATE, reason_code="weapon")
    assert fired == [1] and e.decision is ReviewDecision.ESCALATE
    rows = ledger_rows(direct, EvidenceEvent.REVIEW_DECISION.value)
    assert len(rows) == 1 and json.loads(rows[0].payload)["decision"] == "escalate"


@pytest.mark.slow
def test_random_connection_drops_under_load_lose_and_duplicate_nothing(
        proxied: tuple[Engine, sessionmaker[Session]], direct: sessionmaker[Session],
        pg_proxy: TcpProxy, pg_admin: PgAdmin, pg_database: str, ledger: Ledger,
        caplog: pytest.LogCaptureFixture) -> None:
    _, sessions = proxied
    queue = ReviewQueue(sessions, ledger, db_attempts=10)
    findings = [make_finding() for _ in range(40)]
    stop = threading.Event()

    def chaos() -> None:
        rnd, n = random.Random(7), 0
        while not stop.wait(rnd.uniform(0.05, 0.25)):
            n += 1
            if n % 3 == 0:  # a killed backend process, not only a cut network path
                pg_admin.terminate_backends(pg_database)
            else:
                pg_proxy.drop_all()

    t = threading.Thread(target=chaos)
    t.start()
    caplog.set_level(logging.WARNING, "kouan.db.retry")
    try:
        results = [queue.submit_finding(f, raise_alarm=True) for f in findings]
        # Retrying every submission (a client that never saw its answers) changes nothing.
        again = [queue.submit_finding(f, raise_alarm=True) for f in findings[::5]]
        # On a fast machine the load can end before the chaos has cut much: keep retrying
        # (idempotent) until it has, so the drops below really hit the workload.
        deadline = time.monotonic() + 30.0
        while pg_proxy.drops <= 3 and time.monotonic() < deadline:
            assert queue.submit_finding(findings[0], raise_alarm=True) == results[0]
    finally:
        stop.set()
        t.join()
    assert pg_proxy.drops > 3
    assert caplog.text.count("transient database error") >= 3  # drops hit transactions
    assert again == results[::5]
    with direct() as s:
        stored = set(s.scalars(select(FindingRow.id)).all())
    assert stored == {f.id for f in findings}
    for table in (FindingRow, ReviewItemRow, OutboxRow):
        assert _count(direct, table) == 40
    assert len(ledger_rows(direct, EvidenceEvent.FINDING.value)) == 40
