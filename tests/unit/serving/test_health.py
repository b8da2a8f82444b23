"""Triton status for `kouan doctor`: embedded prerequisites, external reachability."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kouan.config import Settings
from serving import health
from serving.embedded import TritonDistribution, find_distribution, free_port


def test_embedded_reports_ok_when_binary_and_stub_exist() -> None:
    status = health.check_triton(Settings())
    assert (status.component, status.backend, status.ok) == ("triton", "embedded", True)
    assert status.target.endswith("bin/tritonserver") and "python 3.11" in status.detail


def test_embedded_reports_missing_stub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = find_distribution()
    broken = TritonDistribution(real.binary, real.python_backend, tmp_path / "no_stub", real.libs)
    monkeypatch.setattr(health, "find_distribution", lambda: broken)
    status = health.check_triton(Settings())
    assert not status.ok and "no_stub" in status.detail


@pytest.mark.parametrize("scheme", ["grpc", "http"])
def test_external_unreachable_is_reported_quickly(scheme: str) -> None:
    url = f"{scheme}://127.0.0.1:{free_port()}"
    t0 = time.monotonic()
    status = health.check_triton(Settings(triton_url=url))
    assert time.monotonic() - t0 < 3
    assert (status.backend, status.target, status.ok) == ("external", url, False)
    assert "unreachable" in status.detail
