"""Verification of an evidence store and of the database ledger. Reads only; writes nothing.

``verify_store`` re-hashes every object, checks every segment seal, every entry hash, link and
(where no verified seal vouches for it) signature, and compares every stored manifest with the
one rebuilt from the chain. ``verify_database`` checks the database ledger the same way and
against the sealed segments, so an entry edited, deleted, reordered or replayed on either side
is named. :func:`verify_bundle` in :mod:`kouan.evidence.bundle` checks an exported bundle.
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from kouan.db.ledger import LedgerEntryRow, LedgerSegmentRow
from kouan.errors import UsageError
from kouan.evidence.canonical import entry_hash_from_columns, sha256_hex
from kouan.evidence.chain import ChainChecker
from kouan.evidence.errors import ObjectNotFound
from kouan.evidence.keys import load_public_key_pem
from kouan.evidence.layout import (
    CASES_PREFIX,
    OBJECTS_PREFIX,
    PUBLIC_KEY_KEY,
    SEGMENTS_PREFIX,
    object_key,
    parse_manifest_key,
    parse_object_key,
    parse_segment_key,
)
from kouan.evidence.ledger import Line, head
from kouan.evidence.manifest import CaseManifests, manifest_bytes, object_refs
from kouan.evidence.report import VerifyReport
from kouan.evidence.segments import parse_segment, seal_problem
from kouan.evidence.store import ObjectStore

_SEQ_RE = re.compile(rb'"seq":(\d{1,18})')


@dataclass
class StoreState:
    """What :func:`verify_store` learnt, for the database check that may follow."""

    chain: ChainChecker
    objects: set[str] = field(default_factory=set)
    segment_keys: set[str] = field(default_factory=set)


def _check_objects(store: ObjectStore, report: VerifyReport, present: set[str]) -> None:
    keys = list(store.list(OBJECTS_PREFIX))

    def rehash(key: str) -> tuple[str, str | None, str | None]:
        sha = parse_object_key(key)
        if sha is None:
            return key, None, "not a content-addressed object key"
        try:
            actual = sha256_hex(store.get(key))
        except ObjectNotFound:
            return key, None, "listed but unreadable"
        return key, sha, None if actual == sha else f"content changed: sha256 is now {actual}"

    # Threads: S3 round trips and hashlib on large objects both release the GIL.
    with ThreadPoolExecutor(8) as ex:
        for key, sha, why in ex.map(rehash, keys):
            report.objects_checked += 1
            if why is None and sha is not None:
                present.add(sha)
            elif why is not None:
                report.add(f"object {key}", "hash_mismatch" if sha else "unexpected_object", why)


def _check_segments(store: ObjectStore, key: Ed25519PublicKey, report: VerifyReport,
                    chain: ChainChecker, seg_keys: set[str]) -> None:
    for skey in store.list(SEGMENTS_PREFIX):
        rng = parse_segment_key(skey)
        if rng is None:
            report.add(f"segment {skey}", "unexpected_object", "not a ledger segment name")
            continue
        seg_keys.add(skey)
        seg = parse_segment(skey, store.get(skey))
        why = seal_problem(seg, rng, key)
        if why is None:
            report.segments_checked += 1
        else:
            report.add(f"segment {skey}", "seal_invalid", f"{why}; each entry checked on its own")
        for n, reason in seg.bad_lines:
            raw = store_line(store, skey, n)
            m = _SEQ_RE.search(raw)
            name = f"ledger seq {int(m.group(1))}" if m else f"segment {skey} line {n}"
            report.add(name, "malformed", f"{reason} [{skey} line {n}]")
        for n, line, raw in seg.lines:
            if not rng[0] <= line["seq"] <= rng[1]:
                report.add(f"ledger seq {line['seq']}", "outside_segment",
                           f"segment {skey} covers {rng[0]}-{rng[1]} [{skey} line {n}]")
            chain.add(line, f"{skey} line {n}", signature_vouched=why is None, raw=raw)


def store_line(store: ObjectStore, key: str, n: int) -> bytes:
    """Raw line ``n`` (1-based) of a stored object, for naming a record in an unparseable line."""
    lines = store.get(key).split(b"\n")
    return lines[n - 1] if 0 < n <= len(lines) else b""


def _check_public_key(store: ObjectStore, key: Ed25519PublicKey, report: VerifyReport) -> None:
    try:
        pem = store.get(PUBLIC_KEY_KEY)
    except ObjectNotFound:
        return
    try:
        stored = load_public_key_pem(pem, PUBLIC_KEY_KEY)
    except UsageError as exc:  # a damaged key file is a finding, not a crash
        report.add(f"object {PUBLIC_KEY_KEY}", "malformed", str(exc))
        return
    if stored.public_bytes_raw() != key.public_bytes_raw():
        report.add(f"object {PUBLIC_KEY_KEY}", "key_mismatch",
                   "the public key stored here is not the trusted key")


def verify_store(store: ObjectStore, key: Ed25519PublicKey, report: VerifyReport, *,
                 full: bool = False) -> StoreState:
    """Objects and sealed segments of ``store`` (manifests are checked in :func:`finish`)."""
    state = StoreState(chain=ChainChecker(key, report, full=full))
    _check_objects(store, report, state.objects)
    _check_segments(store, key, report, state.chain, state.segment_keys)
    _check_public_key(store, key, report)
    state.chain.finish()
    return state


def _raw_rows(session: Session, batch: int = 5000) -> Iterator[tuple[Any, ...]]:
    """Every ledger row in seq order straight from the DBAPI cursor (SQLite or PostgreSQL);
    skipping the ORM's row machinery roughly halves the database share of verify time."""
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(f"SELECT seq, event, case_id, at, payload, prev_hash, entry_hash, "
                       f"signature FROM {LedgerEntryRow.__tablename__} ORDER BY seq")
        while rows := cursor.fetchmany(batch):
            yield from rows
    finally:
        cursor.close()


def verify_database(session: Session, key: Ed25519PublicKey, report: VerifyReport,
                    state: StoreState, *, full: bool = False) -> ChainChecker:
    """The database ledger, the head row, and agreement with the store's sealed segments."""
    good = state.chain.good_lines()
    db = ChainChecker(key, report, known_good=good, full=full)
    for seq, event, case_id, at, payload, prev, digest, sig in _raw_rows(session):
        # Hash straight from the stored canonical text: no JSON parse for the common case.
        hash_ok = entry_hash_from_columns(seq, event, case_id, at, payload, prev) == digest
        sealed = good.get(seq)
        if (hash_ok and not full and sealed is not None
                and (sealed["entry_hash"], sealed["signature"]) == (digest, sig)):
            db.add(sealed, "database", hash_ok=True)  # identical to a verified sealed entry
            continue
        try:
            parsed = json.loads(payload)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            report.add(f"ledger seq {seq}", "malformed", "payload is not a JSON object [database]")
            parsed = {}
        db.add({"seq": seq, "event": event, "case_id": case_id, "at": at, "payload": parsed,
                "prev_hash": prev, "entry_hash": digest, "signature": sig}, "database",
               hash_ok=hash_ok)
    head_seq, head_hash = head(session)
    db.finish(expect_through=head_seq)
    last = max(db.seen, default=-1)
    if last > head_seq or (head_seq in db.seen and db.seen[head_seq].entry_hash != head_hash):
        report.add("ledger_head", "head_mismatch",
                   f"head row says seq {head_seq} / {head_hash[:12]}..., entries end at seq {last}")
    for seq, s in state.chain.seen.items():
        other = db.seen.get(seq)
        if other is not None and (other.entry_hash, other.signature) != (s.entry_hash,
                                                                         s.signature):
            report.add(f"ledger seq {seq}", "db_differs_from_store",
                       f"database entry differs from the sealed entry [{s.where}]")
        elif other is None and seq > head_seq:
            report.add(f"ledger seq {seq}", "missing",
                       f"sealed in the store [{s.where}] but absent from the database")
    for row in session.scalars(select(LedgerSegmentRow)):
        if row.object_key not in state.segment_keys:
            report.add(f"segment {row.object_key}", "missing",
                       f"sealed range {row.first_seq}-{row.last_seq} is gone from the store")
    return db


def finish(store: ObjectStore, report: VerifyReport, state: StoreState,
           db: ChainChecker | None, started: float) -> VerifyReport:
    """Manifests and object references over the union of store and database entries."""
    lines: dict[int, Line] = dict(state.chain.lines)
    if db is not None:
        for seq, ln in db.lines.items():
            lines.setdefault(seq, ln)
    report.records_checked = len(lines)
    by_case: dict[str, list[Line]] = defaultdict(list)
    for seq in sorted(lines):
        ln = lines[seq]
        by_case[ln["case_id"]].append(ln)
        for ref in object_refs(ln):
            if ref["sha256"] not in state.objects:
                report.add(f"object {object_key(ref['sha256'])}", "missing",
                           f"referenced by ledger seq {seq} (case {ln['case_id']}) but absent "
                           "from the store (deleted)")
    _check_manifests(store, report, by_case)
    report.elapsed_s = time.perf_counter() - started
    return report


def _check_manifests(store: ObjectStore, report: VerifyReport,
                     by_case: dict[str, list[Line]]) -> None:
    built: dict[str, CaseManifests] = {}
    for mkey in store.list(CASES_PREFIX):
        parsed = parse_manifest_key(mkey)
        if parsed is None:
            report.add(f"manifest {mkey}", "unexpected_object", "not a case manifest name")
            continue
        case_id, as_of = parsed
        report.manifests_checked += 1
        data = store.get(mkey)
        if case_id not in built:
            built[case_id] = CaseManifests(case_id, by_case.get(case_id, []))
        expected = manifest_bytes(built[case_id].as_of(as_of))
        if data != expected:
            try:
                json.loads(data)
                why = "differs from the manifest rebuilt from the ledger"
            except ValueError:
                why = "not valid JSON"
            report.add(f"manifest {mkey}", "manifest_mismatch", why)
