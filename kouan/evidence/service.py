"""``EvidenceService``: the evidence store, the ledger and the database sessions together.

What pipelines, the review queue and the CLI call. Order of writes: an object is stored before
the ledger entry that references it, so a committed entry never points at a missing object (a
crash in between leaves an unreferenced object, which is harmless).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from kouan.config import Settings
from kouan.db.ledger import LedgerSegmentRow
from kouan.domain import EvidenceEvent, EvidenceRecord, utcnow
from kouan.errors import UsageError
from kouan.evidence.bundle import verify_bundle, write_bundle
from kouan.evidence.canonical import (
    GENESIS_HASH,
    canonical_json,
    entry_hash,
    normalise_payload,
    sha256_hex,
)
from kouan.evidence.chain import verify_signatures
from kouan.evidence.errors import LedgerCorrupt, ObjectNotFound, StoreUnavailable, UnknownCase
from kouan.evidence.factory import open_store
from kouan.evidence.keys import FileSigner, Signer, fingerprint, load_public_key_pem, public_key_pem
from kouan.evidence.layout import (
    PUBLIC_KEY_KEY,
    SEGMENTS_PREFIX,
    is_sha256,
    manifest_key,
    object_key,
    segment_key,
)
from kouan.evidence.ledger import (
    Ledger,
    Line,
    case_lines,
    check_case_id,
    head,
    iter_lines,
    line_to_record,
)
from kouan.evidence.manifest import build_manifest, manifest_bytes
from kouan.evidence.report import VerifyReport
from kouan.evidence.segments import build_segment
from kouan.evidence.spool import SpoolingObjectStore
from kouan.evidence.store import ObjectStore
from kouan.evidence.verify import finish, verify_database, verify_store

log = logging.getLogger(__name__)
T = TypeVar("T")
_MEDIA_TYPE_RE = re.compile(r"^[A-Za-z0-9][\w.+-]{0,62}/[A-Za-z0-9][\w.+-]{0,62}$")
_NAME_RE = re.compile(r"^[A-Za-z0-9._:+-]{1,128}$")
MAX_META_BYTES = 64 * 1024


def _usage(fn: Callable[[], T]) -> T:
    """Run ``fn``; its ``ValueError`` (bad input) becomes a :class:`UsageError`."""
    try:
        return fn()
    except ValueError as exc:
        raise UsageError(str(exc)) from None


class EvidenceService:
    """``segment_max_records`` bounds one sealed segment (4096 entries is ~2 MB of JSONL)."""

    def __init__(self, store: ObjectStore, signer: Signer, sessions: sessionmaker[Session], *,
                 retention_days: int, settings: Settings | None = None,
                 segment_max_records: int = 4096) -> None:
        if segment_max_records < 1:
            raise ValueError("segment_max_records must be >= 1")
        self.store = store
        self.signer = signer
        self.sessions = sessions
        self.ledger = Ledger(signer)
        self.retention_days = retention_days
        self.settings = settings
        self.segment_max_records = segment_max_records

    @classmethod
    def from_settings(cls, settings: Settings, sessions: sessionmaker[Session]) -> EvidenceService:
        """Nothing is contacted or created here: the store and key are opened on first use."""
        return cls(open_store(settings.resolved_evidence_url, settings),
                   FileSigner(settings.resolved_signing_key_file), sessions,
                   retention_days=settings.evidence_retention_days, settings=settings)

    # -- writing -------------------------------------------------------------------------
    def put_object(self, data: bytes) -> str:
        """Store ``data`` content-addressed (no ledger entry); return its sha256."""
        sha = sha256_hex(bytes(data))
        self.store.put(object_key(sha), bytes(data), self.retention_days)
        return sha

    def record(self, case_id: str, event: EvidenceEvent, payload: dict[str, Any]) -> EvidenceRecord:
        """Append one entry in its own transaction (retried if the database is busy)."""
        _usage(lambda: check_case_id(case_id))
        for attempt in range(3):
            try:
                with self.sessions.begin() as s:
                    try:
                        return self.ledger.append(s, event, case_id, payload)
                    except ValueError as exc:
                        raise UsageError(str(exc)) from None
            except OperationalError:  # SQLite busy past its timeout, PG serialization failure
                if attempt == 2:
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    def put_capture(self, case_id: str, data: bytes, media_type: str = "application/octet-stream",
                    meta: dict[str, Any] | None = None) -> str:
        """Store a capture and record ``capture_stored``; return the object's sha256."""
        _usage(lambda: check_case_id(case_id))
        if not isinstance(media_type, str) or not _MEDIA_TYPE_RE.match(media_type):
            raise UsageError(f"media type {media_type!r} must look like image/png")
        meta_norm, meta_text = _usage(lambda: normalise_payload(meta or {}))
        if len(meta_text) > MAX_META_BYTES:
            raise UsageError(f"capture meta is {len(meta_text)} bytes; limit {MAX_META_BYTES}")
        sha = self.put_object(data)
        self.record(case_id, EvidenceEvent.CAPTURE_STORED, {
            "objects": [{"sha256": sha, "role": "capture", "media_type": media_type,
                         "bytes": len(data)}],
            "meta": meta_norm})
        return sha

    def record_inference(self, case_id: str, model: str, version: str, input_sha: str,
                         output: bytes | dict[str, Any]) -> EvidenceRecord:
        """Store the model output and record ``inference`` (model, version, input, output)."""
        _usage(lambda: check_case_id(case_id))
        for what, value in (("model name", model), ("model version", version)):
            if not isinstance(value, str) or not _NAME_RE.match(value):
                raise UsageError(f"{what} {value!r} must be 1-128 of A-Z a-z 0-9 . _ : + -")
        if not is_sha256(input_sha):
            raise UsageError(f"input sha256 {input_sha!r} must be 64 lowercase hex characters")
        try:
            known = self.store.exists(object_key(input_sha))
        except StoreUnavailable:
            known = True  # cannot check during an outage; verify flags a missing input later
        if not known:
            raise ObjectNotFound(f"inference input {input_sha} is not in the evidence store")
        if isinstance(output, dict):
            data, media_type = _usage(lambda: canonical_json(output)), "application/json"
        elif isinstance(output, bytes | bytearray):
            data, media_type = bytes(output), "application/octet-stream"
        else:
            raise UsageError("inference output must be bytes or a JSON object")
        out_sha = self.put_object(data)
        return self.record(case_id, EvidenceEvent.INFERENCE, {
            "model": {"name": model, "version": version},
            "input_sha256": input_sha, "output_sha256": out_sha,
            "objects": [
                {"sha256": input_sha, "role": "inference_input", "media_type": None,
                 "bytes": None},
                {"sha256": out_sha, "role": "inference_output", "media_type": media_type,
                 "bytes": len(data)}]})

    def flush(self) -> int:
        """Upload spooled objects (S3 only); return how many went up."""
        return self.store.flush() if isinstance(self.store, SpoolingObjectStore) else 0

    # -- sealing -------------------------------------------------------------------------
    def seal(self) -> list[str]:
        """Write every not-yet-sealed entry into immutable segment objects; return their keys.

        A range is claimed in the database first (a short transaction; the primary key on
        ``first_seq`` makes concurrent sealers take turns), then written. Claimed segments whose
        object is missing (a crash between claim and write) are rewritten at the next call.
        """
        pub = self.signer.public_key()
        self.store.put(PUBLIC_KEY_KEY, public_key_pem(pub), self.retention_days)
        written = self._repair()
        while True:
            with self.sessions() as s:
                last = s.scalar(select(LedgerSegmentRow)
                                .order_by(LedgerSegmentRow.first_seq.desc()).limit(1))
                after, prev = (last.last_seq, last.last_hash) if last else (-1, GENESIS_HASH)
                lines = list(iter_lines(s, after_seq=after,
                                        upto_seq=after + self.segment_max_records))
            if not lines:
                return written
            _check_before_seal(lines, after, prev, pub)
            key = segment_key(lines[0]["seq"], lines[-1]["seq"])
            try:
                with self.sessions.begin() as s:
                    s.add(LedgerSegmentRow(first_seq=lines[0]["seq"], last_seq=lines[-1]["seq"],
                                           object_key=key, last_hash=lines[-1]["entry_hash"],
                                           sealed_at=utcnow()))
            except IntegrityError:
                continue  # another sealer claimed this range first; look again
            self._write_segment(key, lines)
            written.append(key)

    def _write_segment(self, key: str, lines: list[Line]) -> None:
        self.store.put(key, build_segment(lines, self.signer), self.retention_days)
        last_seq = lines[-1]["seq"]
        with self.sessions() as s:
            for case_id in sorted({ln["case_id"] for ln in lines}):
                m = build_manifest(case_id, [ln for ln in case_lines(s, case_id)
                                             if ln["seq"] <= last_seq])
                self.store.put(manifest_key(case_id, m["as_of_seq"]), manifest_bytes(m),
                               self.retention_days)

    def _repair(self) -> list[str]:
        with self.sessions() as s:
            rows = s.scalars(select(LedgerSegmentRow)
                             .order_by(LedgerSegmentRow.first_seq.desc()).limit(16)).all()
            try:
                todo = [(r.object_key, r.first_seq, r.last_seq) for r in rows
                        if not self.store.exists(r.object_key)]
            except StoreUnavailable:
                return []  # cannot tell during an outage; the next seal() repairs
            fixed = []
            for key, first, last in reversed(todo):
                lines = list(iter_lines(s, after_seq=first - 1, upto_seq=last))
                log.warning("rewriting claimed but missing ledger segment %s", key)
                self._write_segment(key, lines)
                fixed.append(key)
        return fixed

    # -- reading -------------------------------------------------------------------------
    def case(self, case_id: str) -> dict[str, Any]:
        """``{"case_id", "manifest", "records": [EvidenceRecord]}``; UnknownCase if none."""
        lines = self._case_lines(case_id)
        return {"case_id": case_id, "manifest": build_manifest(case_id, lines),
                "records": [line_to_record(ln) for ln in lines]}

    def _case_lines(self, case_id: str) -> list[Line]:
        _usage(lambda: check_case_id(case_id))
        with self.sessions() as s:
            lines = case_lines(s, case_id)
        if not lines:
            raise UnknownCase(f"unknown case id {case_id!r}: no ledger entry names it")
        return lines

    def get_object(self, sha256: str) -> bytes:
        if not is_sha256(sha256):
            raise UsageError(f"{sha256!r} is not a lowercase hex sha256")
        return self.store.get(object_key(sha256))

    def public_key_pem(self) -> bytes:
        """The ledger's public key (creates the signing key on first use)."""
        return public_key_pem(self.signer.public_key())

    def export(self, case_id: str, out: Path) -> VerifyReport:
        """Write the auditor bundle of ``case_id`` to ``out`` (must not exist yet)."""
        lines = self._case_lines(case_id)
        out = Path(out)
        if out.exists():
            raise UsageError(f"{out} already exists; choose another --out")
        if not out.parent.is_dir():
            raise UsageError(f"directory {out.parent} does not exist")
        with self.sessions() as s:
            chain_head = head(s)
        return write_bundle(out, case_id=case_id, lines=lines, fetch=self.store.get,
                            signer=self.signer, chain_head=chain_head)

    # -- verifying -----------------------------------------------------------------------
    def verify(self, *, store_url: str | None = None, public_key_file: Path | None = None,
               full: bool = False) -> VerifyReport:
        """Check the configured store and database ledger, or only the store at ``store_url``."""
        if store_url is None:
            return run_verify(self.store, self.signer, self.sessions,
                              public_key_file=public_key_file, full=full)
        if self.settings is None:
            raise UsageError("verifying another store needs settings")
        return run_verify(open_store(store_url, self.settings, spool=False), self.signer, None,
                          public_key_file=public_key_file, full=full)

    def verify_bundle(self, path: Path, public_key_file: Path | None = None) -> VerifyReport:
        key, source = trusted_key(self.signer, public_key_file)
        return verify_bundle(Path(path), key, key_source=source)


def trusted_key(signer: Signer | None,
                public_key_file: Path | None) -> tuple[Ed25519PublicKey | None, str]:
    """The key to check signatures with: ``--public-key`` if given, else the local signing key
    if its file exists (never created here), else None."""
    if public_key_file is not None:
        if not public_key_file.is_file():
            raise UsageError(f"public key file {public_key_file} does not exist")
        return (load_public_key_pem(public_key_file.read_bytes(), str(public_key_file)),
                f"pinned by {public_key_file}")
    if isinstance(signer, FileSigner):
        return signer.existing_public_key(), f"local signing key {signer.path}"
    if signer is not None:
        return signer.public_key(), "the service's signing key"
    return None, ""


def run_verify(store: ObjectStore, signer: Signer | None, sessions: sessionmaker[Session] | None,
               *, public_key_file: Path | None = None, full: bool = False) -> VerifyReport:
    """Verify ``store``, plus the database ledger when ``sessions`` is given. Reads only."""
    started = time.perf_counter()
    report = VerifyReport(target=store.url + (" + database ledger" if sessions else ""))
    key, source = trusted_key(signer, public_key_file)
    if key is None:
        key, source = _fallback_key(store, sessions, report)
    report.key_fingerprint, report.key_source = fingerprint(key), source
    state = verify_store(store, key, report, full=full)
    db = None
    if sessions is not None:
        with sessions() as s:
            db = verify_database(s, key, report, state, full=full)
    return finish(store, report, state, db, started)


def _fallback_key(store: ObjectStore, sessions: sessionmaker[Session] | None,
                  report: VerifyReport) -> tuple[Ed25519PublicKey, str]:
    """No local key: use the store's copy (unpinned), or a throwaway key if nothing is signed
    anywhere yet (then there is no signature to check)."""
    try:
        pem = store.get(PUBLIC_KEY_KEY)
        return (load_public_key_pem(pem, f"{store.url}/{PUBLIC_KEY_KEY}"),
                f"the store's own {PUBLIC_KEY_KEY} (not pinned: pass --public-key)")
    except ObjectNotFound:
        pass
    signed = next(iter(store.list(SEGMENTS_PREFIX)), None) is not None
    if sessions is not None:
        with sessions() as s:
            signed = signed or head(s)[0] >= 0
    if signed:
        raise UsageError("no trusted public key: no local signing key and none in the store; "
                         "pass --public-key PEM")
    report.notes.append("nothing has been signed yet; no key to check against")
    return Ed25519PrivateKey.generate().public_key(), "none (empty ledger)"


def _check_before_seal(lines: list[Line], after: int, prev: str, pub: Ed25519PublicKey) -> None:
    """Refuse to seal past any entry whose seq, link, hash or signature is wrong."""
    oks = verify_signatures(pub, [(ln["entry_hash"], ln["signature"]) for ln in lines])
    for ln, sig_ok in zip(lines, oks, strict=True):
        after += 1
        problem = (
            "sequence gap" if ln["seq"] != after else
            "prev_hash does not link" if ln["prev_hash"] != prev else
            "entry_hash does not match the content" if entry_hash(ln) != ln["entry_hash"] else
            "signature does not verify" if not sig_ok else None)
        if problem:
            raise LedgerCorrupt(f"ledger seq {ln['seq']}: {problem}; refusing to seal "
                                "(run `kouan evidence verify`)")
        prev = ln["entry_hash"]
