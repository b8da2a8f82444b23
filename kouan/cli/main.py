"""Entry point of the ``kouan`` console script.

Every command reads settings through ``get_settings()`` when it runs. Errors meant for the user
(:class:`KouanError`, :class:`SettingsError`) print one line and exit 2 (usage/input) or 1
(failed check / unreachable service); no traceback reaches the operator.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from typer.exceptions import TyperException

from kouan.cli import (
    bus,
    core_commands,
    datasets,
    evidence,
    faces,
    gate,
    labels,
    models,
    queue,
    scan,
    train,
    video,
)
from kouan.config import SettingsError
from kouan.errors import KouanError

app = typer.Typer(
    name="kouan",
    help="Kouan (口岸): computer-vision inspection services for land border ports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
core_commands.register(app)
evidence.register(app)
models.register(app)
queue.register(app)
bus.register(app)
video.register(app)
datasets.register(app)
gate.register(app)
labels.register(app)
faces.register(app)
train.register(app)
scan.register(app)

_err = Console(stderr=True, soft_wrap=True, highlight=False)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the process exit code (also used by tests in-process)."""
    try:
        rv = app(args=argv, standalone_mode=False)
    except SettingsError as exc:
        _err.print(f"[red]error:[/red] {exc}")
        return 2
    except KouanError as exc:
        _err.print(f"[red]error:[/red] {exc}")
        return exc.exit_code
    except SystemExit as exc:
        return int(exc.code or 0)
    except (KeyboardInterrupt, typer.Abort):
        return 130
    except typer.Exit as exc:
        return int(exc.exit_code)
    except TyperException as exc:  # click-level usage errors: bad option, unknown command
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            _err.print(f"[red]error:[/red] {exc}")
        return 2
    return rv if isinstance(rv, int) else 0


def entry() -> None:
    sys.exit(main())
