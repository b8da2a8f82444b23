"""`kouan demo` as a user runs it, then the auditor's check: intact, and a flipped byte is named."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

KOUAN = [sys.executable, "-m", "kouan.cli"]


def _kouan(args: list[str], data_dir: Path, timeout: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOUAN_")}
    env["KOUAN_DATA_DIR"] = str(data_dir)
    return subprocess.run([*KOUAN, *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.mark.integration
@pytest.mark.slow
def test_demo_runs_then_verify_detects_one_flipped_byte(tmp_path: Path) -> None:
    data = tmp_path / "data"
    demo = _kouan(["demo"], data, timeout=900)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "Kouan demo summary" in demo.stdout
    assert "exact plate reads" in demo.stdout and "review items queued" in demo.stdout
    assert "Scan ATR" in demo.stdout and "unreadable quarantined" in demo.stdout

    ok = _kouan(["evidence", "verify"], data, timeout=300)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "INTACT" in ok.stdout

    objects = sorted(p for p in (data / "evidence" / "objects").rglob("*") if p.is_file())
    victim = objects[len(objects) // 2]
    blob = bytearray(victim.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    victim.chmod(0o644)
    victim.write_bytes(bytes(blob))

    broken = _kouan(["evidence", "verify"], data, timeout=300)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert victim.name in broken.stdout + broken.stderr
