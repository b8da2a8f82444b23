"""``kouan queue``: inspect and work the review queue from a terminal.

Exit codes: 0 done, 1 conflict (item held by someone else, already decided), 2 bad input or
unknown item.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from kouan.config import get_settings
from kouan.domain import Finding, Modality, ReviewDecision, ReviewStatus, Severity, utcnow
from kouan.errors import UsageError

if TYPE_CHECKING:
    from kouan.queue import ReviewEntry
    from kouan.services import Services

queue_app = typer.Typer(help="Review queue: list, show, claim, release, decide, submit.",
                        no_args_is_help=True)
_out = Console()
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``10m``, ``2h``, ``1d`` -> timedelta; UsageError otherwise."""
    m = _DURATION.match(text.strip())
    if not m:
        raise UsageError(f"duration {text!r} must look like 90s, 10m, 2h or 1d")
    return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


def _enum(cls: Any, value: str | None, what: str) -> Any:
    if value is None:
        return None
    try:
        return cls(value)
    except ValueError:
        raise UsageError(f"unknown {what} {value!r}; choose one of "
                         f"{', '.join(x.value for x in cls)}") from None


def _services() -> Services:
    from kouan.services import build_services

    return build_services(get_settings())


def _run(fn: Any) -> Any:
    """Call ``fn(services)``; turn argument errors into exit 2."""
    svc = _services()
    try:
        return fn(svc)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    finally:
        svc.close()


def _entry_dict(e: ReviewEntry) -> dict[str, Any]:
    return {"item": e.item.model_dump(mode="json"), "finding": e.finding.model_dump(mode="json"),
            "decision": e.decision.value if e.decision else None, "version": e.version,
            "alarm_id": e.alarm_id}


def _print_entries(entries: list[ReviewEntry], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps([_entry_dict(e) for e in entries], indent=2, ensure_ascii=False))
        return
    t = Table("item", "status", "severity", "type", "port/lane", "modality", "age", "holder")
    now = utcnow()
    for e in entries:
        f = e.finding
        age = int((now - e.created_at).total_seconds())
        t.add_row(e.item.id, e.item.status.value, f.severity.value, f.type.value,
                  f"{f.port_id}/{f.lane_id or '-'}", f.modality.value if f.modality else "-",
                  f"{age // 60}m{age % 60:02d}s", e.item.claimed_by or "")
    _out.print(t)


@queue_app.command("list")
def list_items(
    status: Annotated[list[str] | None, typer.Option(
        help="queued | claimed | confirmed | dismissed | escalated (repeatable)")] = None,
    severity: Annotated[list[str] | None, typer.Option(help="Exact severity (repeatable).")] = None,
    min_severity: Annotated[str | None, typer.Option(help="info | low | medium | high | "
                                                     "critical")] = None,
    port: Annotated[str | None, typer.Option(help="Port id.")] = None,
    lane: Annotated[str | None, typer.Option(help="Lane id.")] = None,
    modality: Annotated[str | None, typer.Option(help="Capture modality.")] = None,
    older_than: Annotated[str | None, typer.Option(help="Queued longer than, e.g. 10m.")] = None,
    newer_than: Annotated[str | None, typer.Option(help="Queued less than, e.g. 2h.")] = None,
    order: Annotated[str, typer.Option(help="priority | oldest | newest")] = "priority",
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List review items, most severe and oldest first."""
    from kouan.queue import QueueFilter

    if order not in ("priority", "oldest", "newest"):
        raise UsageError(f"order must be priority, oldest or newest, not {order!r}")
    now = utcnow()
    flt = QueueFilter(
        statuses=frozenset(_enum(ReviewStatus, s, "status") for s in status) if status else None,
        severities=(frozenset(_enum(Severity, s, "severity") for s in severity)
                    if severity else None),
        min_severity=_enum(Severity, min_severity, "severity"), port_id=port, lane_id=lane,
        modality=_enum(Modality, modality, "modality"),
        created_before=now - parse_duration(older_than) if older_than else None,
        created_after=now - parse_duration(newer_than) if newer_than else None,
    )
    entries = _run(lambda svc: svc.queue.list_items(flt, order=order, limit=limit))
    _print_entries(entries, as_json)


@queue_app.command("show")
def show(item_id: str,
         as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Show one item, its finding and its history."""
    def go(svc: Services) -> tuple[ReviewEntry, list[Any]]:
        return svc.queue.get(item_id), svc.queue.history(item_id)

    entry, history = _run(go)
    if as_json:
        doc = _entry_dict(entry)
        doc["history"] = [{"at": h.at.isoformat(), "actor": h.actor, "action": h.action,
                           "detail": h.detail} for h in history]
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    _print_entries([entry], False)
    typer.echo(f"finding {entry.finding.id} (case {entry.finding.case_id}): "
               f"{entry.finding.explanation}")
    for h in history:
        typer.echo(f"  {h.at:%Y-%m-%d %H:%M:%S}Z  {h.actor:<16} {h.action:<9} "
                   f"{json.dumps(h.detail, ensure_ascii=False) if h.detail else ''}")


@queue_app.command("claim")
def claim(
    reviewer: Annotated[str, typer.Option(help="Who claims.")],
    item_id: Annotated[str | None, typer.Argument(help="Item id; omit for the next one.")] = None,
    lease: Annotated[str, typer.Option(help="Lease length, e.g. 5m.")] = "5m",
    lane: Annotated[str | None, typer.Option(help="With no ITEM_ID: only this lane.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Claim ITEM_ID (or the most urgent queued item) for REVIEWER."""
    from kouan.queue import QueueFilter

    lease_s = parse_duration(lease).total_seconds()

    def go(svc: Services) -> ReviewEntry | None:
        if item_id:
            return svc.queue.claim(item_id, reviewer, lease_s)
        return svc.queue.claim_next(reviewer, lease_s, QueueFilter(lane_id=lane))

    entry = _run(go)
    if entry is None:
        typer.echo("nothing to claim")
        return
    _print_entries([entry], as_json)


@queue_app.command("release")
def release(item_id: str, reviewer: Annotated[str, typer.Option(help="Who holds it.")]) -> None:
    """Give a claimed item back to the queue."""
    _run(lambda svc: svc.queue.release(item_id, reviewer))
    typer.echo(f"released {item_id}")


@queue_app.command("decide")
def decide(
    item_id: str,
    reviewer: Annotated[str, typer.Option(help="Who decides (must hold the claim).")],
    decision: Annotated[str, typer.Option(help="confirm | dismiss | escalate")],
    reason: Annotated[str | None, typer.Option(help="Reason code, e.g. benign-tools.")] = None,
    notes: Annotated[str | None, typer.Option(help="Free text for the record.")] = None,
) -> None:
    """Record a decision on ITEM_ID (also written to the evidence ledger)."""
    d = _enum(ReviewDecision, decision, "decision")
    entry = _run(lambda svc: svc.queue.decide(item_id, reviewer, d, reason, notes))
    typer.echo(f"{item_id}: {entry.item.status.value} by {entry.item.decided_by}")


@queue_app.command("submit")
def submit(
    finding_file: Annotated[Path, typer.Argument(help="A Finding as JSON.")],
    alarm: Annotated[bool, typer.Option("--alarm", help="Also raise an alarm.")] = False,
) -> None:
    """Queue a finding from a JSON file (idempotent on the finding id)."""
    try:
        finding = Finding.model_validate_json(finding_file.read_bytes())
    except OSError as exc:
        raise UsageError(f"cannot read {finding_file}: {exc.strerror}") from None
    except ValidationError as exc:
        raise UsageError(f"{finding_file} is not a valid Finding: "
                         f"{exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from None
    item, queued_alarm = _run(lambda svc: svc.queue.submit_finding(finding, alarm))
    typer.echo(f"queued {item.id} for finding {finding.id}"
               + (f"; alarm {queued_alarm.id} in the outbox" if queued_alarm else ""))


def register(app: typer.Typer) -> None:
    app.add_typer(queue_app, name="queue")
