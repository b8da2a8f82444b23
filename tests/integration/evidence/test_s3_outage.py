"""Fault test: S3 endpoint down -> evidence writes spool locally, flush on recovery, none lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from kouan.errors import ServiceUnavailable
from kouan.evidence.keys import KeySigner
from kouan.evidence.layout import object_key
from kouan.evidence.service import EvidenceService, run_verify
from kouan.evidence.spool import SpoolingObjectStore
from kouan.services import Services
from tests.fixtures.s3 import WeedServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_s3_down_spools_and_flushes_without_loss(tmp_path: Path, services: Services) -> None:
    server = WeedServer(tmp_path / "weed")
    server.start()
    try:
        bucket = server.new_bucket()
        inner = server.store(bucket)
        store = SpoolingObjectStore(inner, tmp_path / "spool", max_object_bytes=1 << 20,
                                    retry_after_s=0.5)
        svc = EvidenceService(store, KeySigner(), services.sessions, retention_days=1)
        before = [svc.put_capture("psg-up", f"up {i}".encode(), "image/png") for i in range(3)]
        assert store.pending() == 0

        server.kill()
        during = [svc.put_capture("psg-down", f"down {i}".encode(), "image/png")
                  for i in range(5)]
        rec = svc.record_inference("psg-down", "det", "1", during[0], {"boxes": []})
        assert rec.seq == 8
        # An input stored before the outage cannot be checked now; the entry is still recorded.
        svc.record_inference("psg-up", "det", "1", before[0], b"late output")
        assert store.pending() == 7  # 5 captures + 2 inference outputs
        assert store.get(object_key(during[2])) == b"down 2"  # readable from the spool
        with pytest.raises(ServiceUnavailable):
            list(store.list("objects/"))  # listing needs the real store: fails clearly
        sealed = svc.seal()  # segments and manifests spool too
        assert sealed and store.pending() > 7

        server.start()
        after = svc.put_capture("psg-up", b"after recovery", "image/png")  # triggers flush
        assert store.pending() == 0
        for sha in [*before, *during, after]:
            assert inner.exists(object_key(sha)), sha
        assert inner.get(object_key(during[4])) == b"down 4"
        assert inner.exists(sealed[0])
        assert svc.seal() == ["ledger/segments/000000000010-000000000010.jsonl"]  # "after"
        report = run_verify(inner, svc.signer, services.sessions)
        assert report.ok, report.text()
        assert report.objects_checked == 11  # 9 captures + 2 inference outputs
        assert report.records_checked == 11 and report.segments_checked == 2
    finally:
        server.stop(grace_s=1)
