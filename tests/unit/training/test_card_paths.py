"""Model cards name data by paths relative to the project, not to one machine's checkout."""

from __future__ import annotations

from pathlib import Path

from training.xray.export import portable_path


def test_paths_beside_or_inside_the_project_become_relative(tmp_path: Path) -> None:
    root = tmp_path / "work" / "main"
    (root / "var" / "atr").mkdir(parents=True)
    shared = tmp_path / "work" / "shared" / "realdata"
    shared.mkdir(parents=True)
    assert portable_path(root / "var" / "atr", root) == "var/atr"
    assert portable_path(shared, root) == "../shared/realdata"


def test_paths_elsewhere_stay_absolute(tmp_path: Path) -> None:
    root = tmp_path / "a" / "main"
    other = tmp_path / "b" / "data"
    assert portable_path(other, root) == str(other.resolve())
