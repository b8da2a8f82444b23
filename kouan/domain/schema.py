"""JSON Schema export of the domain model (for gate-system integrators and auditors)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kouan.domain.models import DOMAIN_MODELS


def domain_json_schemas() -> dict[str, dict[str, Any]]:
    """One JSON Schema (draft 2020-12, as pydantic emits it) per domain type, keyed by name."""
    return {m.__name__: m.model_json_schema() for m in DOMAIN_MODELS}


def write_json_schemas(out_dir: Path) -> list[Path]:
    """Write ``<Name>.schema.json`` files into ``out_dir``; return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, schema in domain_json_schemas().items():
        p = out_dir / f"{name}.schema.json"
        p.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        paths.append(p)
    return paths
