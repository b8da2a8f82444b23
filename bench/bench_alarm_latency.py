"""Alarm latency: committed finding -> alarm received by a consumer, NATS JetStream vs local.

Run: ``.venv/bin/python bench/bench_alarm_latency.py [--n 150] [--rate 5]`` (about 3 minutes)
-> ``bench/results/alarm_latency.json``. Target: p99 <= 100 ms on loopback.

Each variant runs the production path in one process: ``ReviewQueue.submit_finding`` commits
the finding, its alarm and the outbox row (plus the ledger entry) in one transaction and wakes
the ``OutboxRelay`` thread; the relay publishes (Nats-Msg-Id = alarm id) and marks the row
(plus an ``alarm_published`` ledger entry); two ``AlarmConsumer`` threads (``gate``,
``command-centre``) receive, record the acknowledgement with its ledger entry, and ack.

Latency = time the consumer's handler is called - time the submit transaction committed
(``time.perf_counter`` in one process). Findings are submitted at ``--rate`` per second (an
open loop, not a saturation test); the first ``--warmup`` alarms are not counted.

Variants: {local bus, NATS} x {SQLite, PostgreSQL}, plus the local bus on SQLite with
``PRAGMA synchronous=NORMAL`` (the engine default is FULL: every commit waits for an fsync of
the WAL, and the embedded path commits ~8 times per alarm). NATS is a private nats-server
(JetStream, file store in a temp dir) on a free port; PostgreSQL is a fresh database on
127.0.0.1:5432, dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.fixtures: the same private servers the tests use

CONSUMERS = ("gate", "command-centre")


def _machine() -> dict[str, Any]:
    import sqlalchemy

    try:
        from importlib.metadata import version

        nats_py = version("nats-py")
    except Exception:
        nats_py = "?"
    import subprocess

    nats_server = subprocess.run(["/usr/sbin/nats-server", "--version"], capture_output=True,
                                 text=True).stdout.strip()
    return {"cpu_count": os.cpu_count(), "load_average_1_5_15": os.getloadavg(),
            "python": platform.python_version(),
            "platform": platform.platform(), "sqlalchemy": sqlalchemy.__version__,
            "nats_py": nats_py, "nats_server": nats_server}


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


def run_variant(bus_kind: str, db_url: str, nats_url: str | None, n: int, rate: float,
                warmup: int, sqlite_sync: str = "FULL") -> dict[str, Any]:
    from kouan.bus.base import AlarmBus
    from kouan.bus.consumer import AlarmConsumer
    from kouan.bus.local_bus import LocalAlarmBus
    from kouan.bus.nats_bus import NatsAlarmBus
    from kouan.bus.outbox import OutboxRelay
    from kouan.db.engine import make_engine, make_session_factory
    from kouan.db.migrate import upgrade
    from kouan.domain import Alarm, Finding, FindingType, Severity
    from kouan.evidence.keys import KeySigner
    from kouan.evidence.ledger import Ledger
    from kouan.queue import ReviewQueue

    engine = make_engine(db_url)
    if sqlite_sync != "FULL":
        from sqlalchemy import event

        @event.listens_for(engine, "connect")
        def _sync(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            dbapi_conn.execute(f"PRAGMA synchronous={sqlite_sync}")

    upgrade(engine)
    sessions = make_session_factory(engine)
    ledger = Ledger(KeySigner())
    bus: AlarmBus = (NatsAlarmBus(nats_url) if bus_kind == "nats" and nats_url
                     else LocalAlarmBus(sessions, CONSUMERS, poll_interval_s=0.2))
    relay = OutboxRelay(sessions, bus, ledger, poll_interval_s=0.5)
    committed_at: list[float] = [0.0]

    def on_commit() -> None:
        committed_at[0] = time.perf_counter()
        relay.wake()

    queue = ReviewQueue(sessions, ledger, on_alarm_committed=on_commit)
    commit_t: dict[str, float] = {}
    submit_s: list[float] = []
    received: dict[str, dict[str, float]] = {c: {} for c in CONSUMERS}
    lock = threading.Lock()

    def handler_for(name: str):  # type: ignore[no-untyped-def]
        def handle(alarm: Alarm, _d: object) -> None:
            t = time.perf_counter()
            with lock:
                received[name].setdefault(alarm.id, t)
        return handle

    consumers = [AlarmConsumer(bus.subscribe(c), sessions, ledger, handler_for(c),
                               fetch_timeout_s=1.0) for c in CONSUMERS]
    relay.start()
    for c in consumers:
        c.start()
    time.sleep(0.5)
    try:
        period = 1.0 / rate
        next_t = time.perf_counter()
        for i in range(n):
            f = Finding(case_id=f"psg-bench-{i}", type=FindingType.THREAT,
                        severity=Severity.HIGH, explanation="bench", port_id="ERENHOT",
                        lane_id=f"lane-{i % 8:02d}")
            t0 = time.perf_counter()
            _, alarm = queue.submit_finding(f, raise_alarm=True)
            submit_s.append(time.perf_counter() - t0)
            assert alarm is not None
            commit_t[alarm.id] = committed_at[0]
            next_t += period
            time.sleep(max(0.0, next_t - time.perf_counter()))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with lock:
                if all(len(r) >= n for r in received.values()):
                    break
            time.sleep(0.05)
    finally:
        for c in consumers:
            c.stop()
        relay.stop()
        bus.close()
        engine.dispose()

    ids = list(commit_t)[warmup:]
    db = db_url.split(":")[0].split("+")[0]
    row: dict[str, Any] = {"bus": bus_kind,
                           "db": db if sqlite_sync == "FULL" else f"{db}-sync-{sqlite_sync}",
                           "alarms": len(ids), "rate_per_s": rate}
    all_lat: list[float] = []
    for name in CONSUMERS:
        lat = [(received[name][a] - commit_t[a]) * 1000 for a in ids if a in received[name]]
        all_lat += lat
        row[name] = {"received": len(lat), "p50_ms": round(_pct(lat, 50), 2),
                     "p99_ms": round(_pct(lat, 99), 2), "max_ms": round(max(lat), 2)}
    row["p50_ms"] = round(_pct(all_lat, 50), 2)
    row["p99_ms"] = round(_pct(all_lat, 99), 2)
    row["max_ms"] = round(max(all_lat), 2)
    row["lost"] = sum(n - warmup - row[c]["received"] for c in CONSUMERS)
    sub_ms = [s * 1000 for s in submit_s[warmup:]]
    row["submit_commit_p50_ms"] = round(_pct(sub_ms, 50), 2)
    row["submit_commit_p99_ms"] = round(_pct(sub_ms, 99), 2)
    row["meets_p99_100ms"] = row["p99_ms"] <= 100.0 and row["lost"] == 0
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=150, help="alarms per variant")
    ap.add_argument("--rate", type=float, default=5.0, help="findings submitted per second")
    ap.add_argument("--warmup", type=int, default=20, help="first alarms not counted")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "alarm_latency.json")
    args = ap.parse_args()
    if args.n <= args.warmup or args.rate <= 0:
        ap.error("need --n > --warmup and --rate > 0")

    from tests.fixtures.nats import NatsServer
    from tests.fixtures.postgres import PgAdmin, pg_url

    load_at_start = os.getloadavg()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="kouan-bench-alarm-") as tmp:
        nats = NatsServer(Path(tmp) / "nats")
        nats.start()
        pg = PgAdmin()
        try:
            pg_db = pg.create(f"kouan_bench_{secrets.token_hex(4)}")
            plan = [(db, bus, "FULL") for db in ("sqlite", "postgresql")
                    for bus in ("local", "nats")] + [("sqlite", "local", "NORMAL")]
            for db_name, bus_kind, sync in plan:
                if db_name == "sqlite":
                    url = f"sqlite:///{tmp}/{bus_kind}-{sync}.db"
                else:
                    url = pg_url(pg.create(f"{pg_db}_{bus_kind}"))
                row = run_variant(bus_kind, url, nats.url, args.n, args.rate, args.warmup, sync)
                rows.append(row)
                print(f"{bus_kind:>5} bus / {row['db']:<18}: p50 {row['p50_ms']:7.2f} ms  "
                      f"p99 {row['p99_ms']:7.2f} ms  max {row['max_ms']:7.2f} ms  "
                      f"lost {row['lost']}  (commit p50 {row['submit_commit_p50_ms']} ms)",
                      flush=True)
        finally:
            pg.close()
            nats.stop()

    ratios = {}
    for db_name in ("sqlite", "postgresql"):
        by = {r["bus"]: r for r in rows if r["db"] == db_name}  # the FULL-sync rows
        ratios[f"nats_over_local_{db_name}"] = {
            q: round(by["nats"][q] / by["local"][q], 2) for q in ("p50_ms", "p99_ms")}
    by_db = {r["db"]: r for r in rows if r["bus"] == "local"}
    ratios["local_sqlite_normal_over_full"] = {
        q: round(by_db["sqlite-sync-NORMAL"][q] / by_db["sqlite"][q], 2)
        for q in ("p50_ms", "p99_ms")}
    machine = _machine()
    machine["load_average_at_start"] = load_at_start
    result = {"benchmark": "alarm_latency", "target": "p99 <= 100 ms on loopback",
              "measured": "consumer handler call - submit transaction commit",
              "machine": machine, "args": {k: str(v) for k, v in vars(args).items()},
              "variants": rows, "ratios": ratios,
              "all_meet_target": all(r["meets_p99_100ms"] for r in rows)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(ratios))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
