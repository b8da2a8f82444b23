"""Core commands: token, doctor, schema, db, serve."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kouan.auth import Role
from kouan.config import Settings, get_settings
from kouan.errors import UsageError

_out = Console(width=None if Console().is_terminal else 160)

token_app = typer.Typer(help="API tokens (stored hashed; the secret is printed once).",
                        no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


def _services(settings: Settings | None = None):  # type: ignore[no-untyped-def]
    from kouan.services import build_services

    return build_services(settings or get_settings())


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="gate | reviewer | supervisor | auditor | engineer | "
                                           "admin")],
    name: Annotated[str, typer.Option(help="Who or what holds the token.")] = "",
) -> None:
    """Create a token with ROLE and print it (only this once)."""
    try:
        r = Role(role)
    except ValueError:
        raise UsageError(f"unknown role {role!r}; choose one of "
                         f"{', '.join(x.value for x in Role)}") from None
    svc = _services()
    try:
        _, secret = svc.tokens.create(r, name)
    finally:
        svc.close()
    typer.echo(secret)


@token_app.command("list")
def token_list() -> None:
    """List tokens (ids and roles; secrets are never stored)."""
    svc = _services()
    try:
        rows = svc.tokens.list()
    finally:
        svc.close()
    t = Table("id", "role", "name", "revoked")
    for tid, role, name, revoked in rows:
        t.add_row(tid, role, name, "yes" if revoked else "")
    _out.print(t)


@token_app.command("revoke")
def token_revoke(token_id: str) -> None:
    """Revoke the token with TOKEN_ID."""
    svc = _services()
    try:
        if not svc.tokens.revoke(token_id):
            raise UsageError(f"no token with id {token_id!r}")
    finally:
        svc.close()
    typer.echo(f"revoked {token_id}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all Alembic migrations to the configured database."""
    svc = _services()
    svc.close()
    typer.echo(f"database at head: {svc.engine.url.render_as_string(hide_password=True)}")


def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    show_settings: Annotated[bool, typer.Option("--settings", help="Also list every KOUAN_* "
                                                "setting with its value.")] = False,
) -> None:
    """Check each component: which backend it uses and whether it is reachable.

    Exit 1 when a configured external service is not reachable.
    """
    from kouan.cli.doctor_checks import run_checks

    settings = get_settings()
    checks = run_checks(settings)
    if as_json:
        typer.echo(json.dumps([c.as_dict() for c in checks], indent=2))
    else:
        t = Table("component", "backend", "target", "status", "detail")
        for c in checks:
            t.add_row(c.component, c.backend, c.target,
                      "[green]ok[/green]" if c.ok else "[red]FAIL[/red]", c.detail)
        _out.print(t)
        if show_settings:
            s = Table("setting", "value")
            for name, value in settings.model_dump().items():
                shown = "***" if "secret" in name and value else str(value)
                s.add_row("KOUAN_" + name.upper(), shown)
            _out.print(s)
    if any(not c.ok for c in checks):
        raise typer.Exit(1)


def schema(
    out: Annotated[Path, typer.Option(help="Directory for <Type>.schema.json files.")],
) -> None:
    """Export the JSON Schema of every domain type."""
    from kouan.domain.schema import write_json_schemas

    paths = write_json_schemas(out)
    typer.echo(f"wrote {len(paths)} schemas to {out}")


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default KOUAN_API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default KOUAN_API_PORT).")] = None,
) -> None:
    """Serve the HTTP API (gate, review, evidence) until interrupted."""
    import uvicorn

    from kouan.api.app import create_app
    from kouan.evidence.sealer import PeriodicSealer
    from serving import faces_api, gate_api
    from serving.connect import triton_session

    settings = get_settings()
    svc = _services(settings)
    # Background workers of a serving process: the outbox relay publishes committed alarms,
    # the sealer turns new ledger entries into signed, retained segments every minute.
    sealer = PeriodicSealer(svc.evidence)
    svc.relay.start()
    sealer.start()
    try:
        # The gate and face routes infer through the configured Triton (embedded unless
        # KOUAN_TRITON_URL is set), kept up for as long as the API serves.
        with triton_session(settings) as client:
            app = create_app(settings, svc)
            gate_api.attach(app, client)
            faces_api.attach(app, client)
            uvicorn.run(app, host=host or settings.api_host, port=port or settings.api_port,
                        log_level=settings.log_level.lower())
    finally:
        sealer.stop()
        svc.close()


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")
    app.add_typer(db_app, name="db")
    app.command("doctor")(doctor)
    app.command("schema")(schema)
    app.command("serve")(serve)
    app.command("demo")(demo)


def demo(
    serve_after: Annotated[bool, typer.Option("--serve",
                                              help="Keep the API up afterwards.")] = False,
    realdata: Annotated[Path | None, typer.Option(help="Real sample data folder "
                                                  "(default ../shared/realdata).")] = None,
) -> None:
    """Run Kouan end to end on its embedded defaults and print what it did."""
    from kouan.demo import print_summary, run_demo

    settings = get_settings()
    results = run_demo(settings, realdata=realdata, console=_out)
    print_summary(results, settings, _out)
    if serve_after:
        _out.print(f"serving the API on http://{settings.api_host}:{settings.api_port} "
                   "(Ctrl-C to stop); create a token with `kouan token create --role reviewer`")
        serve()
