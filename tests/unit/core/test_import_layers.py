"""Enforce the import table of ARCHITECTURE.md with an AST walk over every source file."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PROJECT = {"kouan", "vision", "datasets", "training", "serving", "pipelines", "annotation"}

# package -> project packages it may import (itself always allowed)
ALLOWED: dict[str, set[str]] = {
    "vision": set(),
    "datasets": {"vision"},
    "training": {"vision", "datasets"},
    "serving": {"vision", "pipelines", "kouan"},
    "pipelines": {"vision", "datasets", "serving", "kouan"},
    "annotation": {"vision", "datasets", "kouan"},
    "kouan": set(),
}
# Composition roots inside the application package may wire everything together.
KOUAN_ROOTS = ("kouan.cli", "kouan.api", "kouan.demo")
# Third-party modules a layer must never touch (vision is pure: no service client, no settings).
FORBIDDEN_THIRD_PARTY: dict[str, set[str]] = {
    "vision": {"tritonclient", "pytriton", "ray", "fastapi", "minio", "nats", "sqlalchemy",
               "pydantic_settings", "onnxruntime", "os.environ"},
    "datasets": {"tritonclient", "fastapi", "minio", "nats", "sqlalchemy"},
    "training": {"fastapi", "minio", "nats", "sqlalchemy"},
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif (isinstance(node, ast.Attribute) and node.attr == "environ"
              and isinstance(node.value, ast.Name) and node.value.id == "os"):
            found.append((node.lineno, "os.environ"))
    return found


def _sources() -> list[Path]:
    return sorted(p for pkg in PROJECT for p in (ROOT / pkg).rglob("*.py")
                  if "migrations" not in p.parts)


def layer_violations(path: Path) -> list[str]:
    module = _module_name(path)
    layer = module.split(".")[0]
    allowed = ALLOWED[layer] | {layer}
    if module.startswith(KOUAN_ROOTS):
        allowed = PROJECT
    bad = []
    for lineno, imported in _imports(path):
        top = imported.split(".")[0]
        if top in PROJECT and top not in allowed:
            bad.append(f"{path.relative_to(ROOT)}:{lineno} imports {imported} "
                       f"({layer} may import only {sorted(allowed - {layer}) or 'nothing'})")
        for banned in FORBIDDEN_THIRD_PARTY.get(layer, set()):
            if imported == banned or imported.startswith(banned + "."):
                bad.append(f"{path.relative_to(ROOT)}:{lineno} uses {imported} "
                           f"(forbidden in {layer}/)")
    return bad


def test_every_source_file_respects_the_layer_table() -> None:
    violations = [v for p in _sources() for v in layer_violations(p)]
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize(
    ("layer", "source", "expect_violation"),
    [
        ("vision", "import tritonclient.grpc\n", True),
        ("vision", "from kouan.config import get_settings\n", True),
        ("vision", "import os\nx = os.environ['A']\n", True),
        ("vision", "import numpy as np\nimport cv2\n", False),
        ("datasets", "from vision import x\n", False),
        ("datasets", "from serving import client\n", True),
        ("kouan", "from serving.client import x\n", True),
        ("serving", "from kouan.errors import UsageError\n", False),
        ("annotation", "from pipelines import x\n", True),
    ],
)
def test_checker_catches_what_it_should(tmp_path: Path, layer: str, source: str,
                                        expect_violation: bool,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    pkg = tmp_path / layer
    pkg.mkdir()
    f = pkg / "probe.py"
    f.write_text(source)
    assert bool(layer_violations(f)) is expect_violation
