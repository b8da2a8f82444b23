"""``kouan labels``: reviewed labels out to training (COCO/YOLO) and back in from CVAT or
Label Studio (COCO).

Exit codes: 0 done, 2 bad input (unknown format, existing export without --overwrite,
malformed or unmatched COCO file), 1 a service is unreachable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kouan.config import get_settings
from kouan.domain import ReviewStatus
from kouan.errors import UsageError

if TYPE_CHECKING:
    from kouan.services import Services

labels_app = typer.Typer(help="Reviewed labels: export for training, import from CVAT / "
                              "Label Studio.", no_args_is_help=True)


def _run(fn: Any) -> Any:
    """Call ``fn(services, media, labels)``; bad input (ValueError) becomes exit 2."""
    from annotation.label_store import LabelStore
    from annotation.media import MediaResolver
    from kouan.services import build_services

    svc: Services = build_services(get_settings())
    try:
        return fn(svc, MediaResolver(svc.evidence), LabelStore(svc.sessions))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    finally:
        svc.close()


def _statuses(text: str) -> frozenset[ReviewStatus]:
    try:
        out = frozenset(ReviewStatus(s.strip()) for s in text.split(",") if s.strip())
    except ValueError:
        raise UsageError(f"--status {text!r}: use decided statuses among confirmed, dismissed, "
                         "escalated") from None
    if not out or out & {ReviewStatus.QUEUED, ReviewStatus.CLAIMED}:
        raise UsageError("--status takes decided statuses: confirmed, dismissed, escalated")
    return out


@labels_app.command("export")
def export(
    out: Annotated[Path, typer.Option(help="Output directory.")],
    fmt: Annotated[str, typer.Option("--format", help="coco or yolo.")] = "coco",
    status: Annotated[str, typer.Option(
        help="Decided statuses to export, comma separated.")] = "confirmed,dismissed",
    overwrite: Annotated[bool, typer.Option(help="Replace an existing export.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Write reviewed labels (corrections, kept model boxes, negatives) as a dataset."""
    from annotation.label_export import export_labels

    if fmt not in ("coco", "yolo"):
        raise UsageError(f"--format {fmt!r}: choose coco or yolo")
    statuses = _statuses(status)
    summary = _run(lambda svc, media, labels: export_labels(
        svc.queue, labels, media, svc.evidence.get_object, out, fmt,  # type: ignore[arg-type]
        statuses=statuses, overwrite=overwrite))
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        typer.echo(f"wrote {summary['images']} images ({summary['negatives']} without boxes) "
                   f"and {summary['boxes']} boxes as {fmt} to {out}")


@labels_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="COCO JSON from CVAT or Label Studio.")],
    dry_run: Annotated[bool, typer.Option(help="Check and match only; write nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Add the file's boxes as a new label revision of every review item they match."""
    from annotation.label_import import import_labels

    summary = _run(lambda svc, media, labels: import_labels(
        file, svc.queue, media, labels, svc.sessions, dry_run=dry_run))
    if as_json:
        typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    verb = "would import" if dry_run else "imported"
    typer.echo(f"{verb} {summary['boxes']} boxes on {summary['images matched']} images")
    if summary["unmatched count"]:
        typer.echo(f"{summary['unmatched count']} image(s) matched no review item, e.g. "
                   + ", ".join(summary["unmatched"][:5]), err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(labels_app, name="labels")
