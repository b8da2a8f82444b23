"""seed_review_demo queues viewable content (synthetic and real), once."""

from __future__ import annotations

import pytest

from annotation.demo import seed_review_demo
from annotation.workstation import ReviewWorkstation
from kouan.realdata import realdata_dir
from kouan.services import Services

REALDATA = realdata_dir()


@pytest.mark.slow
def test_seed_review_demo(services: Services) -> None:
    realdata = REALDATA if (REALDATA / "xray_baggage").is_dir() else None
    out = seed_review_demo(services, realdata)
    assert out["synthetic bags"] == 6 and out["cargo scans"] == 1
    if realdata is not None:
        assert out["real images"] == 5
    total = services.queue.count()
    assert total == 7 + out["real images"]
    ws = ReviewWorkstation(services.queue, services.evidence, services.sessions)
    kinds = set()
    for e in services.queue.list_items(limit=100):
        d = ws.detail(e.item.id, "ana")
        assert len(d["images"]) == 1 and not d["attachments"], e.finding.id
        kinds.add(d["images"][0]["kind"])
        if e.finding.id == "demo-review-cargo-7":
            [decl] = d["declarations"]
            assert decl["hs_chapters"] and "actual_hs_chapter" not in decl["data"]
    assert "dual_energy" in kinds
    assert seed_review_demo(services, realdata)["synthetic bags"] == 6  # idempotent ...
    assert services.queue.count() == total  # ... nothing queued twice
