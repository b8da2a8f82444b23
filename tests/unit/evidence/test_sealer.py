"""PeriodicSealer seals on its own and survives failures."""

from __future__ import annotations

import time

import pytest

from kouan.errors import ServiceUnavailable
from kouan.evidence.sealer import PeriodicSealer
from kouan.services import Services
from tests.unit.evidence.helpers import populate


def test_background_sealing(services: Services) -> None:
    sealer = PeriodicSealer(services.evidence, interval_s=0.05)
    sealer.start()
    try:
        populate(services.evidence, cases=1, captures=1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if services.evidence.verify().segments_checked:
                break
            time.sleep(0.05)
    finally:
        sealer.stop()
    report = services.evidence.verify()
    assert report.ok and report.records_under_seal == 2


def test_failures_are_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    class Down:
        def seal(self) -> list[str]:
            raise ServiceUnavailable("store down")

    assert PeriodicSealer(Down()).tick() == []
    assert "store down" in caplog.text
    with pytest.raises(ValueError):
        PeriodicSealer(Down(), interval_s=0)
