"""Shared pytest configuration. Service fixtures live in ``tests/fixtures/`` (one module each)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kouan.config import get_settings

pytest_plugins = [
    "tests.fixtures.core",
    "tests.fixtures.postgres",
    "tests.fixtures.nats",
    "tests.fixtures.alarm_path",
    "tests.fixtures.ray_local",
    "tests.fixtures.triton",
    "tests.fixtures.s3",
    "tests.fixtures.faces",
    "tests.fixtures.review",
]


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets its own data dir and no inherited KOUAN_* values."""
    import os

    for k in list(os.environ):
        if k.startswith("KOUAN_") or k == "RAY_ADDRESS":
            monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("KOUAN_DATA_DIR", str(tmp_path / "kouan-data"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
