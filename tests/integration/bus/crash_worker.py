"""A producer process for the crash test: commits a finding with its alarm, then stalls.

Run as ``python -m tests.integration.bus.crash_worker DB_URL NATS_URL KEY_FILE STAGE`` where
STAGE is ``before-publish`` (stall after the commit, before the bus is called) or
``after-publish`` (stall after the bus confirmed, before the outbox row is marked). It prints
``READY <alarm_id>`` when it reaches the stall point; the test then SIGKILLs it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from kouan.bus.base import PublishAck
from kouan.bus.nats_bus import NatsAlarmBus
from kouan.bus.outbox import OutboxMessage, OutboxRelay, RelayHooks
from kouan.db.engine import make_engine, make_session_factory
from kouan.evidence.keys import FileSigner
from kouan.evidence.ledger import Ledger
from kouan.queue import ReviewQueue
from tests.fixtures.alarm_path import make_finding


def _stall(msg: OutboxMessage) -> None:
    sys.stdout.write(f"READY {msg.alarm_id}\n")
    sys.stdout.flush()
    while True:  # wait for SIGKILL
        time.sleep(60)


def main(db_url: str, nats_url: str, key_file: str, stage: str) -> int:
    if stage not in ("before-publish", "after-publish"):
        sys.stderr.write(f"unknown stage {stage!r}\n")
        return 2
    engine = make_engine(db_url)
    sessions = make_session_factory(engine)
    ledger = Ledger(FileSigner(Path(key_file)))
    bus = NatsAlarmBus(nats_url)
    hooks = (RelayHooks(before_publish=_stall) if stage == "before-publish"
             else RelayHooks(after_publish=lambda msg, ack: _after(msg, ack)))
    relay = OutboxRelay(sessions, bus, ledger, hooks=hooks)
    queue = ReviewQueue(sessions, ledger)
    _, alarm = queue.submit_finding(make_finding(), raise_alarm=True)
    sys.stdout.write(f"COMMITTED {alarm.id if alarm else '-'}\n")
    sys.stdout.flush()
    relay.relay_once()
    return 1  # never reached: the hook stalls until killed


def _after(msg: OutboxMessage, ack: PublishAck) -> None:
    _stall(msg)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
