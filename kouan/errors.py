"""User-facing errors, mapped to CLI exit codes and HTTP 4xx."""

from __future__ import annotations


class KouanError(Exception):
    """Base for errors that carry a message meant for the user (no traceback)."""

    exit_code = 1


class UsageError(KouanError):
    """Bad arguments or input files: CLI exit 2, HTTP 400/404/413/422."""

    exit_code = 2


class ServiceUnavailable(KouanError):
    """A configured service could not be reached: CLI exit 1, HTTP 503."""

    exit_code = 1
