"""evidence_health reports without writing anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from kouan.config import Settings
from kouan.evidence.health import evidence_health


def test_local_backend(tmp_path: Path) -> None:
    h = evidence_health(Settings(data_dir=tmp_path / "d"))
    assert (h.backend, h.ok) == ("embedded", True) and "will be created" in h.detail
    assert not (tmp_path / "d").exists()
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    h = evidence_health(Settings(data_dir=tmp_path, evidence_url=f"file://{ro}/ev"))
    import os

    assert h.ok is (os.geteuid() == 0)  # root ignores directory modes


@pytest.mark.parametrize("url", ["s3://127.0.0.1:1/bucket-x", "s3://host/A"])
def test_s3_unreachable_or_invalid(tmp_path: Path, url: str) -> None:
    h = evidence_health(Settings(data_dir=tmp_path, evidence_url=url), timeout_s=0.5)
    assert h.backend == "external" and not h.ok and h.detail
