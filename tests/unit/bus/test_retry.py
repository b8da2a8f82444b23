"""run_with_retry: transient database errors are retried, others are not."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from kouan.db.retry import is_transient, run_with_retry
from kouan.errors import ServiceUnavailable


def _op_error() -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception("server closed the connection"))


def test_transient_errors_are_retried_until_success() -> None:
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise _op_error()
        return "ok"

    assert run_with_retry(flaky, what="t", base_delay_s=0.001) == "ok"
    assert len(calls) == 3


def test_non_transient_errors_pass_through_at_once() -> None:
    calls = []

    def broken() -> None:
        calls.append(1)
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    with pytest.raises(IntegrityError):
        run_with_retry(broken, what="t", base_delay_s=0.001)
    assert calls == [1]
    assert not is_transient(ValueError("x")) and is_transient(_op_error())


def test_exhausted_retries_become_service_unavailable() -> None:
    def down() -> None:
        raise _op_error()

    with pytest.raises(ServiceUnavailable, match="during submit after 3 attempts"):
        run_with_retry(down, what="submit", attempts=3, base_delay_s=0.001)
    with pytest.raises(ValueError):
        run_with_retry(down, what="x", attempts=0)
