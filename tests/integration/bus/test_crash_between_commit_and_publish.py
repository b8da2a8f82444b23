"""Fault test: the producer process is SIGKILLed between the database commit and the publish
(or between the publish and marking the outbox row). A fresh relay resumes, and the consumer
receives the alarm exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kouan.bus.consumer import AlarmConsumer
from kouan.bus.nats_bus import NatsAlarmBus
from kouan.bus.outbox import OutboxRelay
from kouan.db.alarms import AlarmAckRow, OutboxRow
from kouan.domain import EvidenceEvent
from kouan.evidence.keys import FileSigner
from kouan.evidence.ledger import Ledger
from tests.fixtures.alarm_path import ledger_rows

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[3]


def _run_until_stall(args: list[str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.integration.bus.crash_worker", *args],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    committed = ""
    for line in proc.stdout:
        if line.startswith("COMMITTED "):
            committed = line.split()[1]
        if line.startswith("READY "):
            assert line.split()[1] == committed
            return proc, committed
    proc.wait(10)
    raise AssertionError(f"worker exited {proc.returncode}: "
                         f"{proc.stderr.read() if proc.stderr else ''}")


@pytest.mark.parametrize("stage", ["before-publish", "after-publish"])
def test_relay_resumes_after_producer_is_killed(
        stage: str, db_url: str, db_sessions: sessionmaker[Session], nats_url: str,
        tmp_path: Path) -> None:
    key = tmp_path / "ledger.pem"
    proc, alarm_id = _run_until_stall([db_url, nats_url, str(key), stage])
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL

    with db_sessions() as s:
        row = s.scalars(select(OutboxRow)).one()
    assert row.alarm_id == alarm_id and row.published_at is None  # committed, not confirmed

    ledger = Ledger(FileSigner(key))
    bus = NatsAlarmBus(nats_url, ack_wait_s=1.0)
    try:
        gate_sub = bus.subscribe("gate")
        seen: list[str] = []
        gate = AlarmConsumer(gate_sub, db_sessions, ledger, lambda a, d: seen.append(a.id))
        # Before the relay resumes, the gate sees the alarm only if it was published.
        gate.poll_once(2.0)
        assert seen == ([alarm_id] if stage == "after-publish" else [])

        res = OutboxRelay(db_sessions, bus, ledger).relay_once()
        assert (res.published, res.failed) == (1, 0)
        assert res.duplicates == (1 if stage == "after-publish" else 0)
        while gate.poll_once(1.5):  # also outlives ack_wait: nothing is redelivered
            pass
        assert seen == [alarm_id]
        with db_sessions() as s:
            assert s.scalars(select(OutboxRow.published_at)).one() is not None
            assert len(s.scalars(select(AlarmAckRow)).all()) == 1
        assert len(ledger_rows(db_sessions, EvidenceEvent.ALARM_PUBLISHED.value)) == 1
        assert len(ledger_rows(db_sessions, EvidenceEvent.ALARM_ACKNOWLEDGED.value)) == 1
        gate_sub.close()
    finally:
        bus.close()
