"""Gate fixtures: real images, one OCR client on the session's embedded Triton, and an API
client whose app has the gate routes and that Triton attached."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kouan.api.app import create_app
from kouan.config import Settings
from kouan.realdata import realdata_dir as find_realdata
from kouan.services import Services
from pipelines.gate.ocr import GateOcr
from serving import gate_api
from serving.client import TritonClient
from serving.embedded import EmbeddedTriton

ROOT = Path(__file__).resolve().parents[3]


def realdata_dir() -> Path:
    return find_realdata()


@pytest.fixture(scope="session")
def realdata() -> Path:
    path = realdata_dir()
    if not (path / "plates_cn" / "labels.json").is_file():
        pytest.fail(f"real plate data not found at {path} (set REALDATA_DIR)")
    return path


@pytest.fixture(scope="session")
def plate_labels(realdata: Path) -> dict[str, Any]:
    files: dict[str, Any] = json.loads(
        (realdata / "plates_cn" / "labels.json").read_text(encoding="utf-8"))["files"]
    return files


@pytest.fixture(scope="session")
def gate_client(triton_server: EmbeddedTriton) -> Iterator[TritonClient]:
    with TritonClient(triton_server.grpc_url, timeout_s=60) as client:
        yield client


@pytest.fixture(scope="session")
def gate_ocr(gate_client: TritonClient) -> GateOcr:
    return GateOcr.from_repository(gate_client)


@pytest.fixture
def gate_api_client(settings: Settings, services: Services,
                    gate_client: TritonClient) -> Iterator[TestClient]:
    app = create_app(settings, services)  # includes the gate routes
    gate_api.attach(app, gate_client)
    with TestClient(app) as client:
        yield client
