"""Auditor bundles: one case's objects, manifest, ledger slice, public key, a signed export
statement and the verification report, in one zip; and the check of such a zip.

Members::

    manifest.json           the case manifest (rebuilt from the slice when verifying)
    ledger.jsonl            every ledger entry of the case, one canonical JSON line each
    public_key.pem          the Ed25519 public key (compare its fingerprint out of band)
    statement.json          {"statement": {v, case_id, exported_at, chain_head: {seq, hash},
                             entries: [[seq, entry_hash], ...], objects: [sha256, ...],
                             key_fingerprint}, "signature": base64}
    verification.json       the report of checking this bundle right after it was written
    objects/sha256/ab/cd/<hex>

A slice is not a contiguous chain, so the signed statement is what makes a deleted, inserted,
replayed or reordered entry detectable inside the bundle; each entry's own hash and signature
are checked individually.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kouan.domain import utcnow
from kouan.errors import UsageError
from kouan.evidence.canonical import canonical_json, format_at, sha256_hex
from kouan.evidence.chain import ChainChecker
from kouan.evidence.errors import MalformedLedger, ObjectNotFound
from kouan.evidence.keys import (
    Signer,
    encode_signature,
    fingerprint,
    load_public_key_pem,
    public_key_pem,
    signature_ok,
)
from kouan.evidence.layout import is_sha256, object_key, parse_object_key
from kouan.evidence.ledger import Line
from kouan.evidence.manifest import build_manifest, manifest_bytes
from kouan.evidence.report import VerifyReport
from kouan.evidence.segments import check_line

REQUIRED = ("manifest.json", "ledger.jsonl", "public_key.pem", "statement.json")
_SEQ_RE = re.compile(rb'"seq":(\d{1,18})')


def _statement_digest(statement: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(statement)).hexdigest()


def write_bundle(out: Path, *, case_id: str, lines: list[Line], fetch: Callable[[str], bytes],
                 signer: Signer, chain_head: tuple[int, str]) -> VerifyReport:
    """Write the bundle for ``case_id`` to ``out`` (atomically) and return its check report."""
    manifest = build_manifest(case_id, lines)
    key = signer.public_key()
    statement = {"v": 1, "case_id": case_id, "exported_at": format_at(utcnow()),
                 "chain_head": {"seq": chain_head[0], "hash": chain_head[1]},
                 "entries": [[ln["seq"], ln["entry_hash"]] for ln in lines],
                 "objects": [o["sha256"] for o in manifest["objects"]],
                 "key_fingerprint": fingerprint(key)}
    sig = encode_signature(signer.sign(bytes.fromhex(_statement_digest(statement))))
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as z:
            z.writestr("manifest.json", manifest_bytes(manifest))
            z.writestr("ledger.jsonl", b"".join(canonical_json(ln) + b"\n" for ln in lines))
            z.writestr("public_key.pem", public_key_pem(key))
            z.writestr("statement.json",
                       canonical_json({"statement": statement, "signature": sig}) + b"\n")
            for obj in manifest["objects"]:
                # An object gone from the store is left out; the bundle's own report names it.
                with contextlib.suppress(ObjectNotFound):
                    z.writestr(obj["key"], fetch(obj["key"]))
        report = verify_bundle(tmp, key, key_source="the signing key that wrote it")
        report.target = str(out)
        with zipfile.ZipFile(tmp, "a") as z:
            z.writestr("verification.json", json.dumps(report.to_dict(), indent=2) + "\n")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return report


def _read(z: zipfile.ZipFile, name: str, report: VerifyReport) -> bytes | None:
    try:
        return z.read(name)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:  # CRC mismatch: member damaged
        report.add(f"bundle member {name}", "corrupt", f"unreadable: {exc}")
        return None


def _open(path: Path) -> zipfile.ZipFile:
    if not path.is_file():
        raise UsageError(f"bundle {path} does not exist")
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise MalformedLedger(f"{path} is not a zip bundle: {exc}") from None
    missing = [m for m in REQUIRED if m not in z.namelist()]
    if missing:
        z.close()
        raise MalformedLedger(f"{path} is not an evidence bundle: missing {', '.join(missing)}")
    return z


def _bundle_key(z: zipfile.ZipFile, trusted: Ed25519PublicKey | None, key_source: str,
                report: VerifyReport) -> Ed25519PublicKey:
    pem = _read(z, "public_key.pem", report)
    bundled = None
    if pem is not None:
        try:
            bundled = load_public_key_pem(pem, "public_key.pem in the bundle")
        except UsageError as exc:
            if trusted is None:
                raise MalformedLedger(str(exc)) from None
            report.add("bundle member public_key.pem", "malformed", str(exc))
    if trusted is None:
        if bundled is None:
            raise MalformedLedger("the bundle's public key is unreadable and none was given")
        report.key_source = "the bundle's own public_key.pem (not pinned: compare the "\
                            "fingerprint with the published one, or pass --public-key)"
        report.key_fingerprint = fingerprint(bundled)
        return bundled
    report.key_source = key_source
    report.key_fingerprint = fingerprint(trusted)
    if bundled is not None and bundled.public_bytes_raw() != trusted.public_bytes_raw():
        report.add("bundle member public_key.pem", "key_mismatch",
                   "the bundled public key is not the trusted key")
    return trusted


def _statement(z: zipfile.ZipFile, key: Ed25519PublicKey,
               report: VerifyReport) -> dict[str, Any] | None:
    raw = _read(z, "statement.json", report)
    if raw is None:
        return None
    try:
        doc = json.loads(raw)
        stmt, sig = doc["statement"], doc["signature"]
        entries = [(int(s), str(h)) for s, h in stmt["entries"]]
        objects = [str(o) for o in stmt["objects"]]
        case_id = str(stmt["case_id"])
    except (ValueError, KeyError, TypeError) as exc:
        report.add("bundle member statement.json", "malformed", f"cannot be read: {exc!r}")
        return None
    if not isinstance(sig, str) or not signature_ok(key, _statement_digest(stmt), sig):
        report.add("bundle member statement.json", "signature_invalid",
                   "the export statement's signature does not verify")
    return {"case_id": case_id, "entries": entries, "objects": objects}


def verify_bundle(path: Path, trusted: Ed25519PublicKey | None, *,
                  key_source: str = "--public-key") -> VerifyReport:
    """Check a bundle; structural problems (not a bundle at all) raise ``MalformedLedger``."""
    started = time.perf_counter()
    report = VerifyReport(target=str(path))
    with _open(path) as z:
        key = _bundle_key(z, trusted, key_source, report)
        stmt = _statement(z, key, report)
        chain = ChainChecker(key, report, full=True)
        raw = _read(z, "ledger.jsonl", report) or b""
        for n, rawline in enumerate(raw.splitlines(), start=1):
            where = f"ledger.jsonl line {n}"
            try:
                line = json.loads(rawline)
                why = check_line(line)
            except ValueError as exc:
                line, why = None, f"not valid JSON ({exc.__class__.__name__})"
            if why is not None:
                m = _SEQ_RE.search(rawline)
                name = f"ledger seq {int(m.group(1))}" if m else f"bundle {where}"
                report.add(name, "malformed", f"{why} [{where}]")
                continue
            if stmt is not None and line["case_id"] != stmt["case_id"]:
                report.add(f"ledger seq {line['seq']}", "wrong_case",
                           f"belongs to case {line['case_id']!r} [{where}]")
            chain.add(line, where)
        chain.finish(check_gaps=False)
        report.records_checked = len(chain.seen)
        if stmt is not None:
            _against_statement(stmt, chain, report)
            _check_manifest(z, stmt["case_id"], chain, report)
        _check_objects(z, stmt, report)
    report.elapsed_s = time.perf_counter() - started
    return report


def _against_statement(stmt: dict[str, Any], chain: ChainChecker, report: VerifyReport) -> None:
    signed = dict(stmt["entries"])
    for seq, h in stmt["entries"]:
        if seq not in chain.seen:
            report.add(f"ledger seq {seq}", "missing",
                       "listed in the signed export statement but absent (deleted)")
        elif chain.seen[seq].entry_hash != h:
            report.add(f"ledger seq {seq}", "statement_mismatch",
                       "entry_hash differs from the signed export statement")
    for seq in chain.seen:
        if seq not in signed:
            report.add(f"ledger seq {seq}", "not_in_statement",
                       "not listed in the signed export statement (inserted or replayed)")


def _check_manifest(z: zipfile.ZipFile, case_id: str, chain: ChainChecker,
                    report: VerifyReport) -> None:
    data = _read(z, "manifest.json", report)
    report.manifests_checked += 1
    expected = manifest_bytes(build_manifest(case_id, list(chain.lines.values())))
    if data is not None and data != expected:
        report.add("bundle member manifest.json", "manifest_mismatch",
                   "differs from the manifest rebuilt from the ledger slice")


def _check_objects(z: zipfile.ZipFile, stmt: dict[str, Any] | None,
                   report: VerifyReport) -> None:
    names = set(z.namelist())
    listed = [s for s in (stmt["objects"] if stmt else []) if is_sha256(s)]
    for sha in listed:
        if object_key(sha) not in names:
            report.add(f"object {object_key(sha)}", "missing",
                       "listed in the signed export statement but absent from the bundle")
    for name in sorted(n for n in names if n.startswith("objects/")):
        sha = parse_object_key(name)
        report.objects_checked += 1
        data = _read(z, name, report)
        if sha is None:
            report.add(f"object {name}", "unexpected_object", "not a content-addressed key")
        elif data is not None and sha256_hex(data) != sha:
            report.add(f"object {name}", "hash_mismatch",
                       f"content changed: sha256 is now {sha256_hex(data)}")
