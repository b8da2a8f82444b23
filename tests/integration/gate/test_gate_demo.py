"""``kouan demo``'s gate part: three passages through embedded Triton, evidence and queue."""

from __future__ import annotations

from pathlib import Path

import pytest

from kouan.services import Services
from pipelines.gate.demo import run_demo
from serving.client import TritonClient

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_demo_passages(services: Services, gate_client: TritonClient, realdata: Path) -> None:
    summary = run_demo(services, gate_client, realdata)
    assert summary["decisions"] == ["clear", "hold", "inspect"], summary
    clear, hold, inspect = summary["passages"]
    assert clear["plates"] == ["皖AXS887"] and clear["containers"] == ["MSKU4135329"]
    assert "CSQU3054383" in hold["containers"] and hold["alarms"]
    assert inspect["findings"] and not inspect["alarms"]
    assert summary["alarms"] >= 1 and summary["elapsed_s"] < 60
    for p in summary["passages"]:
        assert services.evidence.case(p["passage_id"])["records"]
