"""Review workstation benchmarks: a queue page over 10 000 items (target <= 300 ms server time)
and an image tile (target <= 100 ms), every variant in one run, side by side.

Run: ``.venv/bin/python bench/bench_review.py [--items 10000] [--repeat 30] [--no-pg]``
Writes ``bench/results/review.json``.

* Queue pages go through the real HTTP route in process (FastAPI ``TestClient``: routing, auth,
  the query, JSON) on SQLite and, unless ``--no-pg``, on a temporary PostgreSQL database on
  127.0.0.1:5432 (dropped afterwards). The 10 000 items are bulk-inserted rows (findings,
  review items, history), not ``submit_finding`` calls: the ledger is not what this measures.
* Tiles: a 512 x 512 dual-energy bag (synthetic), a 1024 x 288 cargo scan (synthetic, linac)
  and the real 2688 x 2208 GDXray radiograph (shared/realdata) when present. ``cold`` is the
  first tile of an image in a fresh process cache (fetch from the evidence store, decode,
  render every material view, cut, PNG); ``warm_new_tile`` is a tile asked for the first time
  once the view is rendered (cut + PNG); ``cached_tile`` a tile asked for again (its PNG is
  kept); full-view PNGs likewise (first encode, then cached).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from kouan.realdata import realdata_dir

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REALDATA = realdata_dir()
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _machine() -> dict[str, Any]:
    import cv2
    import fastapi
    import numpy
    import sqlalchemy

    return {"cpu_count": os.cpu_count(), "loadavg_at_start": os.getloadavg(),
            "python": platform.python_version(), "platform": platform.platform(),
            "numpy": numpy.__version__, "opencv": cv2.__version__,
            "fastapi": fastapi.__version__, "sqlalchemy": sqlalchemy.__version__}


def _timed(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {"median_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 2),
            "min_ms": round(times[0], 2), "n": repeat}


def _fill(services: Any, n: int) -> None:
    """Bulk-insert ``n`` findings with review items in mixed states (core inserts, in FK order)."""
    from sqlalchemy import insert

    from kouan.db.review import FindingRow, ReviewEventRow, ReviewItemRow
    from kouan.domain import Severity, utcnow

    sevs = list(Severity)
    now = utcnow()
    findings, items, events = [], [], []
    for i in range(n):
        sev = sevs[i % 5]
        fid, iid = f"fnd-bench-{i:06d}", f"rev-bench-{i:06d}"
        at = now - timedelta(seconds=n - i)
        findings.append(dict(
            id=fid, case_id=f"psg-bench-{i // 3}", type="threat", severity=sev.value,
            severity_rank=sev.rank, port_id="ERENHOT", lane_id=f"lane-{i % 12:02d}",
            modality="xray_dual_energy", explanation="benchmark finding",
            detections=[{"label": "knife", "score": 0.8, "box": [10, 10, 50, 60], "text": None}],
            evidence=["a" * 64], model_name="bench", model_version="1", created_at=at,
            content_sha256="0" * 64))
        claimed, decided = i % 10 == 0, i % 4 == 1
        items.append(dict(
            id=iid, finding_id=fid,
            status="confirmed" if decided else ("claimed" if claimed else "queued"),
            severity_rank=sev.rank, created_at=at, updated_at=at,
            claimed_by="ana" if claimed or decided else None,
            claimed_at=at if claimed else None,
            lease_expires_at=now + timedelta(minutes=5) if claimed else None,
            decided_by="ana" if decided else None, decided_at=at if decided else None,
            decision="confirm" if decided else None, reason_code=None, notes=None, version=1))
        events.append(dict(item_id=iid, at=at, actor="system", action="queued",
                           detail={"finding_id": fid}))
    with services.sessions.begin() as s:
        for table, rows in ((FindingRow, findings), (ReviewItemRow, items),
                            (ReviewEventRow, events)):
            for k in range(0, len(rows), 2000):
                s.execute(insert(table), rows[k:k + 2000])


def _app(db_url: str | None, data_dir: Path) -> tuple[Any, Any, dict[str, str]]:
    from fastapi.testclient import TestClient

    from kouan.api.app import create_app
    from kouan.auth import Role
    from kouan.config import get_settings
    from kouan.services import build_services

    os.environ["KOUAN_DATA_DIR"] = str(data_dir)
    if db_url:
        os.environ["KOUAN_DB_URL"] = db_url
    else:
        os.environ.pop("KOUAN_DB_URL", None)
    get_settings.cache_clear()
    settings = get_settings()
    services = build_services(settings)
    _, secret = services.tokens.create(Role.REVIEWER, "bench")
    client = TestClient(create_app(settings, services))
    return services, client, {"Authorization": f"Bearer {secret}"}


def bench_queue(tmp: Path, n: int, repeat: int, use_pg: bool) -> dict[str, Any]:
    from sqlalchemy import create_engine, text

    backends: list[tuple[str, str | None]] = [("sqlite", None)]
    pg_name = None
    admin = None
    if use_pg:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        pg_name = f"kouan_bench_{secrets.token_hex(4)}"
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{pg_name}"'))
        backends.append(("postgresql", f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_name}"))
    queries = {
        "open_page_50": "/v1/review/items?status=queued,claimed&limit=50",
        "all_page_50": "/v1/review/items?limit=50",
        "lane_high_page_50": "/v1/review/items?lane_id=lane-03&min_severity=high&limit=50",
        "deep_page_offset_9000": "/v1/review/items?limit=50&offset=9000&order=oldest",
        "page_200": "/v1/review/items?status=queued,claimed&limit=200",
    }
    out: dict[str, Any] = {"items": n}
    try:
        for name, url in backends:
            services, client, h = _app(url, tmp / f"data-{name}")
            try:
                t0 = time.perf_counter()
                _fill(services, n)
                fill_s = time.perf_counter() - t0
                if name == "postgresql":  # fresh planner statistics, as autovacuum would give
                    with services.engine.connect() as c:
                        c.execute(text("ANALYZE"))
                        c.commit()
                rows: dict[str, Any] = {"fill_s": round(fill_s, 1)}
                for qname, q in queries.items():
                    r = client.get(q, headers=h)
                    if r.status_code != 200:
                        raise RuntimeError(f"{q}: HTTP {r.status_code} {r.text[:200]}")
                    rows[qname] = {**_timed(partial(client.get, q, headers=h), repeat),
                                   "total": r.json()["total"]}
                out[name] = rows
            finally:
                client.close()
                services.close()
        if "postgresql" in out:
            out["ratio_postgresql_over_sqlite"] = {
                q: round(out["postgresql"][q]["median_ms"] / out["sqlite"][q]["median_ms"], 2)
                for q in queries}
    finally:
        if admin is not None and pg_name:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
            admin.dispose()
    return out


def _images() -> list[tuple[str, bytes]]:
    from annotation.scan_decode import dual_energy_npz
    from datasets.synth.baggage import generate_baggage
    from datasets.synth.cargo import generate_cargo

    bag = generate_baggage(7).views[0]
    cargo = generate_cargo(7)
    out = [("bag_512x512_dual_energy",
            dual_energy_npz(bag.low, bag.high, "linear", "dual_layer_160kv_10keV")),
           ("cargo_1024x288_dual_energy",
            dual_energy_npz(cargo.low, cargo.high, "log", "linac_4_6MV"))]
    gdx = REALDATA / "xray_baggage" / "gdxray_full" / "B0046_0004.png"
    if gdx.is_file():
        out.append(("gdxray_2688x2208_real_gray", gdx.read_bytes()))
    return out


def bench_tiles(tmp: Path, repeat: int) -> dict[str, Any]:
    from annotation.workstation import ReviewWorkstation
    from kouan.domain import Finding, FindingType, Severity

    services, client, h = _app(None, tmp / "data-tiles")
    out: dict[str, Any] = {}
    try:
        for name, data in _images():
            sha = services.evidence.put_capture(f"bench-{name}", data)
            item, _ = services.queue.submit_finding(Finding(
                case_id=f"bench-{name}", type=FindingType.THREAT, severity=Severity.HIGH,
                explanation="bench", port_id="ERENHOT", evidence=[sha]))
            detail = client.get(f"/v1/review/items/{item.id}", headers=h).json()
            view = detail["images"][0]["default_view"]
            levels = detail["images"][0]["tiles"]["levels"]
            base = f"/v1/review/items/{item.id}/images/{sha}"
            # cold: a fresh workstation (empty caches) for the first tile of the image
            client.app.state.review_workstation = ReviewWorkstation(
                services.queue, services.evidence, services.sessions)
            t0 = time.perf_counter()
            r = client.get(f"{base}/tiles/{view}/0/0/0.png", headers=h)
            cold = (time.perf_counter() - t0) * 1000
            if r.status_code != 200:
                raise RuntimeError(f"tile: HTTP {r.status_code} {r.text[:200]}")
            # warm: the view is rendered; each of these tiles is cut and encoded for the
            # first time. cached: a tile asked for again (its PNG is kept).
            nx, ny = detail_grid(detail["images"][0])
            fresh = [f"{base}/tiles/{view}/0/{x}/{y}.png" for y in range(ny) for x in range(nx)
                     if (x, y) != (0, 0)][:repeat]
            new_tiles = [_timed(partial(client.get, u, headers=h), 1)["median_ms"]
                         for u in fresh]
            warm = ({"median_ms": round(statistics.median(new_tiles), 2),
                     "max_ms": round(max(new_tiles), 2), "n": len(new_tiles)}
                    if new_tiles else None)
            cached = _timed(partial(client.get, f"{base}/tiles/{view}/0/0/0.png", headers=h),
                            repeat)
            top = levels - 1
            t0 = time.perf_counter()
            client.get(f"{base}/tiles/{view}/{top}/0/0.png", headers=h)
            overview_first = (time.perf_counter() - t0) * 1000
            t0 = time.perf_counter()
            client.get(f"{base}/views/{view}.png", headers=h)
            full_first = (time.perf_counter() - t0) * 1000
            full = _timed(partial(client.get, f"{base}/views/{view}.png", headers=h), repeat)
            out[name] = {"view": view, "levels": levels, "level0_tiles": nx * ny,
                         "cold_first_tile_ms": round(cold, 1), "warm_new_tile": warm,
                         "cached_tile": cached,
                         "overview_tile_first_ms": round(overview_first, 1),
                         "full_view_png_first_ms": round(full_first, 1),
                         "full_view_png_cached": full,
                         "ratio_cold_over_warm": round(cold / warm["median_ms"], 1)
                         if warm else None}
    finally:
        client.close()
        services.close()
    return out


def detail_grid(image: dict[str, Any]) -> tuple[int, int]:
    """Tiles across and down at level 0 of an image described by ``GET /items/{id}``."""
    size = image["tiles"]["tile_size"]
    return -(-image["width"] // size), -(-image["height"] // size)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL rows")
    args = ap.parse_args()
    out: dict[str, Any] = {"benchmark": "review", "machine": _machine(),
                           "targets": {"queue_page_ms": 300, "tile_ms": 100}}
    with tempfile.TemporaryDirectory(prefix="kouan-bench-review-") as d:
        tmp = Path(d)
        out["queue"] = bench_queue(tmp, args.items, args.repeat, not args.no_pg)
        out["tiles"] = bench_tiles(tmp, args.repeat)
    res = ROOT / "bench" / "results" / "review.json"
    res.parent.mkdir(parents=True, exist_ok=True)
    res.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
