"""Entry point of the ``kouan`` console script.

Every command reads settings through ``get_settings()`` when it runs. Errors meant for the user
(:class:`KouanError`, :class:`SettingsError`) print one line and exit 2 (usage/input) or 1
(failed check / unreachable service); no traceback reaches the operator.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from kouan.cli import core_commands
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

_err = Console(stderr=True)


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
    except SystemExit as exc:  # typer.Exit inside standalone_mode=False
        return int(exc.code or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # click usage errors surface here in standalone_mode=False
        import click

        if isinstance(exc, click.exceptions.Exit):
            return exc.exit_code
        if isinstance(exc, click.ClickException):
            exc.show()
            return 2
        if isinstance(exc, click.exceptions.Abort):
            return 130
        raise
    return rv if isinstance(rv, int) else 0


def entry() -> None:
    sys.exit(main())
