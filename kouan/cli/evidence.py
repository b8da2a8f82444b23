"""``kouan evidence``: verify, export, seal, flush, show, public-key.

``verify`` exits 0 when everything checked is intact, 1 with a report naming each broken record
or object, and 2 for bad input (unknown case, unreadable bundle, bad URL). ``--store`` and
``--bundle`` need no database: an auditor can run them on a machine of their own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kouan.config import get_settings
from kouan.errors import UsageError
from kouan.evidence.report import VerifyReport

if TYPE_CHECKING:
    from kouan.services import Services

evidence_app = typer.Typer(help="Evidence store and signed ledger (auditors).",
                           no_args_is_help=True)


def _services() -> Services:
    from kouan.services import build_services

    return build_services(get_settings())


def _emit(report: VerifyReport, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        typer.echo(report.text())
    if not report.ok:
        raise typer.Exit(1)


@evidence_app.command("verify")
def verify(
    store: Annotated[str | None, typer.Option(
        help="Verify this store instead of the configured one (s3://host:port/bucket or "
             "file:///path); the database ledger is then not read.")] = None,
    bundle: Annotated[Path | None, typer.Option(help="Verify an exported bundle (zip).")] = None,
    public_key: Annotated[Path | None, typer.Option(
        help="Trusted public key (PEM). Default: the local signing key.")] = None,
    full: Annotated[bool, typer.Option(
        help="Verify every entry signature individually, even under a verified seal.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Re-hash every object, check the chain and every signature; exit 1 naming what is broken."""
    from kouan.evidence.bundle import verify_bundle
    from kouan.evidence.factory import open_store
    from kouan.evidence.keys import FileSigner
    from kouan.evidence.service import run_verify, trusted_key

    if store is not None and bundle is not None:
        raise UsageError("give --store or --bundle, not both")
    settings = get_settings()
    signer = FileSigner(settings.resolved_signing_key_file)
    if bundle is not None:
        key, source = trusted_key(signer, public_key)
        _emit(verify_bundle(bundle, key, key_source=source), as_json)
        return
    if store is not None:
        _emit(run_verify(open_store(store, settings, spool=False), signer, None,
                         public_key_file=public_key, full=full), as_json)
        return
    svc = _services()
    try:
        report = svc.evidence.verify(public_key_file=public_key, full=full)
    finally:
        svc.close()
    _emit(report, as_json)


@evidence_app.command("export")
def export(
    case_id: str,
    out: Annotated[Path, typer.Option(help="Bundle to write (zip; must not exist).")],
) -> None:
    """Write CASE_ID's objects, manifest, ledger slice, public key and verification report."""
    svc = _services()
    try:
        report = svc.evidence.export(case_id, out)
    finally:
        svc.close()
    typer.echo(f"wrote {out}: {report.records_checked} ledger entries, "
               f"{report.objects_checked} objects, {'intact' if report.ok else 'BROKEN'}")
    if not report.ok:
        typer.echo(report.text())
        raise typer.Exit(1)


@evidence_app.command("show")
def show(case_id: str) -> None:
    """Print CASE_ID's manifest and ledger slice as JSON."""
    svc = _services()
    try:
        view = svc.evidence.case(case_id)
    finally:
        svc.close()
    typer.echo(json.dumps({"case_id": view["case_id"], "manifest": view["manifest"],
                           "records": [r.model_dump(mode="json") for r in view["records"]]},
                          indent=2, ensure_ascii=False))


@evidence_app.command("seal")
def seal() -> None:
    """Write all unsealed ledger entries to immutable segment objects in the store."""
    svc = _services()
    try:
        keys = svc.evidence.seal()
    finally:
        svc.close()
    typer.echo(f"sealed {len(keys)} segment(s)" + "".join(f"\n  {k}" for k in keys))


@evidence_app.command("flush")
def flush() -> None:
    """Upload evidence spooled locally while the S3 endpoint was down."""
    svc = _services()
    try:
        n = svc.evidence.flush()
    finally:
        svc.close()
    typer.echo(f"flushed {n} spooled object(s)")


@evidence_app.command("public-key")
def public_key_cmd(
    out: Annotated[Path | None, typer.Option(help="Write the PEM here instead of stdout.")] = None,
) -> None:
    """Print the Ed25519 public key auditors use to check ledger signatures."""
    from kouan.evidence.keys import FileSigner, fingerprint, public_key_pem

    signer = FileSigner(get_settings().resolved_signing_key_file)
    pem = public_key_pem(signer.public_key())
    if out is None:
        typer.echo(pem.decode("ascii"), nl=False)
    else:
        out.write_bytes(pem)
        typer.echo(f"wrote {out} ({fingerprint(signer.public_key())})")


def register(app: typer.Typer) -> None:
    app.add_typer(evidence_app, name="evidence")
