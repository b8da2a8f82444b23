"""EvidenceService: captures, inferences, sealing, case views; bad input is refused cleanly."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import delete, text

from kouan.db.ledger import LedgerSegmentRow
from kouan.domain import EvidenceEvent
from kouan.errors import UsageError
from kouan.evidence.errors import LedgerCorrupt, ObjectNotFound, ObjectTooLarge, UnknownCase
from kouan.evidence.layout import object_key, segment_key
from kouan.evidence.service import EvidenceService
from kouan.evidence.store import LocalObjectStore
from kouan.services import Services
from tests.unit.evidence.helpers import local_store_of, populate, raw_delete


def test_capture_inference_and_case_view(services: Services) -> None:
    ev = services.evidence
    sha = ev.put_capture("psg-7", b"\x89PNG...", "image/png", {"lane": "R1"})
    rec = ev.record_inference("psg-7", "plate-ocr", "3.10", sha, {"text": "蒙A12345"})
    ev.record("psg-7", EvidenceEvent.REVIEW_DECISION, {"decision": "confirm", "by": "li"})
    view = ev.case("psg-7")
    assert [r.event for r in view["records"]] == ["capture_stored", "inference",
                                                  "review_decision"]
    objs = {o["sha256"]: o for o in view["manifest"]["objects"]}
    assert objs[sha]["role"] == "capture" and objs[sha]["key"] == object_key(sha)
    out_sha = rec.payload["output_sha256"]
    assert json.loads(ev.get_object(out_sha)) == {"text": "蒙A12345"}
    assert rec.payload["model"] == {"name": "plate-ocr", "version": "3.10"}


def test_seal_writes_segments_and_manifests_once(services: Services) -> None:
    ev = services.evidence
    ev.segment_max_records = 4
    populate(ev, cases=2, captures=2)  # 8 entries
    keys = ev.seal()
    assert keys == [segment_key(0, 3), segment_key(4, 7)]
    assert ev.seal() == []
    store = local_store_of(ev)
    assert list(store.list("cases/")) == [
        "cases/psg-0/manifests/000000000003.json", "cases/psg-1/manifests/000000000007.json"]
    ev.record("psg-0", EvidenceEvent.ALARM_PUBLISHED, {"alarm": "alm-1"})
    assert ev.seal() == [segment_key(8, 8)]
    assert "cases/psg-0/manifests/000000000008.json" in list(store.list("cases/"))
    assert ev.verify().ok


def test_seal_rewrites_a_claimed_but_missing_segment(services: Services) -> None:
    ev = services.evidence
    populate(ev, cases=1, captures=1)
    [key] = ev.seal()
    raw_delete(local_store_of(ev), key)
    assert not ev.verify().ok
    assert ev.seal() == [key]
    assert ev.verify().ok


def test_seal_refuses_a_corrupt_database_ledger(services: Services) -> None:
    ev = services.evidence
    populate(ev, cases=1, captures=2)
    with services.sessions.begin() as s:
        s.execute(text("UPDATE ledger_entries SET payload = :p WHERE seq = 2"),
                  {"p": '{"forged":true}'})
    with pytest.raises(LedgerCorrupt, match="ledger seq 2"):
        ev.seal()
    with services.sessions.begin() as s:
        s.execute(delete(LedgerSegmentRow))
    assert list(local_store_of(ev).list("ledger/segments/")) == []


@pytest.mark.parametrize(("call", "error"), [
    (lambda ev: ev.put_capture("../x", b"d"), UsageError),
    (lambda ev: ev.put_capture("psg-1", b"d", "not a media type"), UsageError),
    (lambda ev: ev.put_capture("psg-1", b"d", "image/png", {"x": float("inf")}), UsageError),
    (lambda ev: ev.put_capture("psg-1", b"x" * 2048), ObjectTooLarge),
    (lambda ev: ev.record_inference("psg-1", "m", "1", "a" * 64, b"out"), ObjectNotFound),
    (lambda ev: ev.record_inference("psg-1", "m", "1", "XYZ", b"out"), UsageError),
    (lambda ev: ev.record_inference("psg-1", "bad name!", "1", "a" * 64, b"out"), UsageError),
    (lambda ev: ev.record("psg-1", "nonsense", {}), UsageError),
    (lambda ev: ev.case("unknown-case"), UnknownCase),
    (lambda ev: ev.case("bad/case"), UsageError),
    (lambda ev: ev.get_object("nothex"), UsageError),
])
def test_bad_input_gets_a_clear_error_and_nothing_is_touched(
        services: Services, call: Callable[[EvidenceService], object],
        error: type[Exception]) -> None:
    ev = services.evidence
    kept = ev.put_capture("psg-1", b"keep me", "image/png")
    assert isinstance(ev.store, LocalObjectStore)
    ev.store.max_object_bytes = 1024
    before = sorted(ev.store.list())
    with pytest.raises(error):
        call(ev)
    assert sorted(ev.store.list()) == before
    assert ev.get_object(kept) == b"keep me"
    assert len(ev.case("psg-1")["records"]) == 1
