from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from kouan.domain import FindingType, Severity
from pipelines.video.evaluate import score
from pipelines.video.sinks import ClipRecorder, ServicesSink, encode_clip
from pipelines.video.sources import Frame
from vision.video.ground import GeoOrigin
from vision.video.types import Event, EventType
from vision.video.zones import Rules, Tripwire, Zone

SQ = ((0.0, 0.0), (50.0, 0.0), (50.0, 50.0), (0.0, 50.0))


def frame(i: int, w: int = 800) -> Frame:
    img = np.full((w * 9 // 16, w, 3), i % 255, np.uint8)
    return Frame(i, i / 10.0, img)


def event(kind: EventType = EventType.ZONE_INTRUSION, zone: str = "yard",
          direction: str | None = None, t: float = 1.0,
          world: tuple[float, float] | None = None) -> Event:
    return Event(1, kind, t, None, 4, zone, (10.0, 10.0, 30.0, 60.0), "person", direction,
                 world)


def decode_frames(data: bytes, tmp: Path) -> int:
    p = tmp / "c.mp4"
    p.write_bytes(data)
    cap = cv2.VideoCapture(str(p))
    n = 0
    while cap.read()[0]:
        n += 1
    return n


def test_clip_has_pre_and_post_roll(tmp_path: Path) -> None:
    rec = ClipRecorder("cam", fps=10.0, pre_s=1.0, post_s=0.5, max_width=320,
                       origin=GeoOrigin(111.97, 43.65))
    out = []
    for i in range(30):
        opened = [event(t=1.5, world=(3.0, 4.0))] if i == 15 else []
        out += rec.push(frame(i), opened)
    assert len(out) == 1
    pkg = out[0]
    assert pkg.frames == 10 + 5  # 1 s before (incl. the event frame) + 0.5 s after
    assert decode_frames(pkg.clip_mp4, tmp_path) == 15
    key = cv2.imdecode(np.frombuffer(pkg.keyframe_jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert key.shape == (450, 800, 3)  # keyframe keeps the full resolution
    assert pkg.lonlat is not None and pkg.lonlat[1] > 43.65
    rec.push(frame(40), [event()])
    assert len(rec.flush()) == 1  # end of stream: no event is lost


def test_encode_clip_rejects_nothing() -> None:
    with pytest.raises(ValueError):
        encode_clip([], 10.0)


class FakeEvidence:
    def __init__(self) -> None:
        self.captures: list[tuple[str, str, dict[str, Any]]] = []
        self.inferences: list[tuple[str, str]] = []

    def put_capture(self, case_id: str, data: bytes, media_type: str = "",
                    meta: dict[str, Any] | None = None) -> str:
        self.captures.append((case_id, media_type, meta or {}))
        return hashlib.sha256(data).hexdigest()

    def record_inference(self, case_id: str, model: str, version: str, input_sha: str,
                         output: Any) -> None:
        self.inferences.append((case_id, input_sha))


class FakeQueue:
    def __init__(self) -> None:
        self.submitted: list[tuple[Any, bool]] = []

    def submit_finding(self, finding: Any, raise_alarm: bool = False) -> tuple[Any, Any]:
        self.submitted.append((finding, raise_alarm))
        return object(), ("alarm" if raise_alarm else None)


RULES = Rules(zones=(Zone("yard", SQ, restricted=True, severity="high"),
                     Zone("lawn", SQ, severity="low")),
              tripwires=(Tripwire("gate", (0, 0), (0, 9), forward="in", backward="out",
                                  alarm_on=frozenset({"in"})),))


@pytest.mark.parametrize(
    ("ev", "ftype", "alarm", "severity"),
    [
        (event(), FindingType.ZONE_INTRUSION, True, Severity.HIGH),
        (event(zone="lawn"), FindingType.ZONE_INTRUSION, False, Severity.LOW),
        (event(EventType.LOITERING, zone="lawn"), FindingType.LOITERING, False, Severity.LOW),
        (event(EventType.TRIPWIRE, "gate", "in"), FindingType.TRIPWIRE, True, Severity.MEDIUM),
        (event(EventType.TRIPWIRE, "gate", "out"), FindingType.TRIPWIRE, False, Severity.MEDIUM),
        (event(EventType.ABANDONED_OBJECT, zone=""), FindingType.ABANDONED_OBJECT, False,
         Severity.MEDIUM),
    ],
)
def test_services_sink_maps_events_to_findings(ev: Event, ftype: FindingType, alarm: bool,
                                               severity: Severity) -> None:
    ev_store, queue = FakeEvidence(), FakeQueue()
    sink = ServicesSink(ev_store, queue, "ERENHOT", {"cam": RULES}, run_id="r1")
    rec = ClipRecorder("cam", fps=10.0, pre_s=0.2, post_s=0.0, max_width=160)
    [pkg] = rec.push(frame(3, 320), [ev])
    finding, alarm_row = sink.write(pkg)
    assert finding.type is ftype and finding.severity is severity
    assert (alarm_row is not None) is alarm and queue.submitted[0][1] is alarm
    assert [c[1] for c in ev_store.captures] == ["video/mp4", "image/jpeg"]
    assert finding.evidence == [hashlib.sha256(pkg.clip_mp4).hexdigest(),
                                hashlib.sha256(pkg.keyframe_jpeg).hexdigest()]
    assert finding.case_id == f"video:cam:r1:{ev.event_id}"
    assert ev_store.inferences == [(finding.case_id, finding.evidence[1])]
    assert "camera cam" in finding.explanation


def test_score_matches_by_type_rule_direction_and_time() -> None:
    annotated = [{"type": "tripwire", "zone": "gate", "direction": "in", "t": 10.0},
                 {"type": "tripwire", "zone": "gate", "direction": "in", "t": 20.0},
                 {"type": "zone_intrusion", "zone": "yard", "t": 30.0}]
    detected = [event(EventType.TRIPWIRE, "gate", "in", t=10.5),
                event(EventType.TRIPWIRE, "gate", "in", t=11.0),  # duplicate: false
                event(EventType.TRIPWIRE, "gate", "out", t=20.0),  # wrong direction: false
                event(t=31.0),
                event(EventType.LOITERING, t=31.0)]  # not an annotated type
    s = score(detected, annotated, duration_s=120.0, tolerance_s=2.0,
              types={"tripwire", "zone_intrusion"})
    assert (s.annotated, s.detected, s.matched, s.false_events, s.missed) == (3, 4, 2, 2, 1)
    assert s.false_per_minute == 1.0 and s.count_error == 1
    assert s.counting_accuracy == pytest.approx(2 / 3)
    assert s.as_dict()["recall"] == pytest.approx(0.667, abs=1e-3)
