"""Event sinks: a short clip and a keyframe per event as evidence, a finding in the review queue,
and an alarm on the bus for restricted zones.

:class:`ClipRecorder` keeps a pre-roll ring buffer of (downscaled) frames per stream. When an
event opens it snapshots the keyframe and the pre-roll, then collects ``post_s`` more seconds;
the finished :class:`EvidencePackage` (event, MP4 clip, JPEG keyframe) is what an actor hands
to the driver. :class:`ServicesSink` writes a package through the narrow
:class:`EvidenceWriter` and :class:`FindingSubmitter` seams (``Services.evidence`` and
``Services.queue``): clip and keyframe are stored as captures, the event JSON is recorded as the
analytic's output, and the finding is queued, with an alarm when the rule asks for one.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from kouan.domain import (
    Alarm,
    Detection,
    Finding,
    FindingType,
    Modality,
    ModelRef,
    ReviewItem,
    Severity,
    new_id,
)
from pipelines.video.sources import Frame
from vision.video.ground import GeoOrigin
from vision.video.types import Event, EventType
from vision.video.zones import Rules

log = logging.getLogger(__name__)
U8Image = npt.NDArray[np.uint8]
MODEL = ModelRef(name="video-motion-hog-bytetrack", version="1")
_TYPES = {EventType.ZONE_INTRUSION: FindingType.ZONE_INTRUSION,
          EventType.TRIPWIRE: FindingType.TRIPWIRE,
          EventType.LOITERING: FindingType.LOITERING,
          EventType.ABANDONED_OBJECT: FindingType.ABANDONED_OBJECT}


@dataclass
class EvidencePackage:
    """Everything needed to turn one event into evidence + a finding (picklable)."""

    camera: str
    event: Event
    clip_mp4: bytes
    keyframe_jpeg: bytes
    fps: float
    frames: int
    wall_start: datetime | None = None
    lonlat: tuple[float, float] | None = None


def encode_clip(frames: list[U8Image], fps: float) -> bytes:
    """MPEG-4 Part 2 in an MP4 container (OpenCV's FFmpeg writer; no H.264 encoder ships)."""
    if not frames:
        raise ValueError("a clip needs at least one frame")
    h, w = frames[0].shape[:2]
    fd, path = tempfile.mkstemp(suffix=".mp4")
    os.close(fd)
    try:
        vw = cv2.VideoWriter(path, cv2.VideoWriter.fourcc(*"mp4v"), max(1.0, fps), (w, h))
        if not vw.isOpened():
            raise OSError("OpenCV cannot open an mp4v writer")
        for f in frames:
            vw.write(f)
        vw.release()
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(path)


def encode_jpeg(image: U8Image, quality: int = 90) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise OSError("JPEG encoding failed")
    return bytes(buf.tobytes())


@dataclass
class _Pending:
    event: Event
    frames: list[U8Image]
    keyframe: bytes
    until: float


@dataclass
class ClipRecorder:
    """Per-stream clip assembly. ``max_width``: clip frames are downscaled to this width;
    the keyframe keeps the full resolution (it is the evidence a reviewer zooms into)."""

    camera: str
    fps: float
    pre_s: float = 3.0
    post_s: float = 2.0
    max_width: int = 640
    start: datetime | None = None
    origin: GeoOrigin | None = None
    _ring: deque[U8Image] = field(default_factory=deque)
    _pending: list[_Pending] = field(default_factory=list)

    def _small(self, img: U8Image) -> U8Image:
        h, w = img.shape[:2]
        if w <= self.max_width:
            return img
        s = self.max_width / w
        return np.asarray(cv2.resize(img, (self.max_width, max(2, round(h * s)) // 2 * 2),
                                     interpolation=cv2.INTER_AREA), dtype=np.uint8)

    def push(self, frame: Frame, opened: list[Event]) -> list[EvidencePackage]:
        """Add ``frame`` (after analysis) with the events that opened on it; return packages
        whose post-roll is complete."""
        small = self._small(frame.image)
        self._ring.append(small)
        while len(self._ring) > max(1, int(self.pre_s * self.fps)):
            self._ring.popleft()
        for ev in opened:
            self._pending.append(_Pending(ev, list(self._ring), encode_jpeg(frame.image),
                                          frame.t + self.post_s))
        done = []
        for p in self._pending:
            if p.frames[-1] is not small:
                p.frames.append(small)
            if frame.t >= p.until:
                done.append(p)
        self._pending = [p for p in self._pending if p not in done]
        return [self._package(p) for p in done]

    def flush(self) -> list[EvidencePackage]:
        """End of stream: package everything still collecting post-roll."""
        out = [self._package(p) for p in self._pending]
        self._pending = []
        return out

    def _package(self, p: _Pending) -> EvidencePackage:
        lonlat = self.origin.to_lonlat(*p.event.world) if (
            self.origin is not None and p.event.world is not None) else None
        wall = self.start + timedelta(seconds=p.event.t_start) if self.start else None
        return EvidencePackage(self.camera, p.event, encode_clip(p.frames, self.fps),
                               p.keyframe, self.fps, len(p.frames), wall, lonlat)


class EvidenceWriter(Protocol):
    def put_capture(self, case_id: str, data: bytes, media_type: str = ...,
                    meta: dict[str, Any] | None = ...) -> str: ...

    def record_inference(self, case_id: str, model: str, version: str, input_sha: str,
                         output: bytes | dict[str, Any]) -> Any: ...


class FindingSubmitter(Protocol):
    def submit_finding(self, finding: Finding,
                       raise_alarm: bool = ...) -> tuple[ReviewItem, Alarm | None]: ...


def _alarm_and_severity(ev: Event, rules: Rules) -> tuple[bool, Severity]:
    zones = {z.name: z for z in rules.zones}
    wires = {w.name: w for w in rules.tripwires}
    if ev.type is EventType.TRIPWIRE and ev.zone in wires:
        w = wires[ev.zone]
        return ev.direction in w.alarm_on, Severity(w.severity)
    z = zones.get(ev.zone)
    if z is None:  # abandoned object outside every zone
        return False, Severity.MEDIUM
    sev = Severity(z.severity)
    if ev.type is EventType.ABANDONED_OBJECT and z.restricted:
        sev = Severity.HIGH if sev.rank < Severity.HIGH.rank else sev
    return z.restricted, sev


def explain(pkg: EvidencePackage) -> str:
    ev = pkg.event
    what = {EventType.ZONE_INTRUSION: f"{ev.label} entered zone {ev.zone!r}",
            EventType.LOITERING: f"{ev.label} stayed in zone {ev.zone!r} for "
                                 f"{ev.extra.get('dwell_s', '?')} s",
            EventType.TRIPWIRE: f"{ev.label} crossed {ev.zone!r} ({ev.direction})",
            EventType.ABANDONED_OBJECT: "unattended object left"
                                        + (f" in zone {ev.zone!r}" if ev.zone else "")}[ev.type]
    when = pkg.wall_start.isoformat() if pkg.wall_start else f"t={ev.t_start:.1f} s"
    where = (f" at lon {pkg.lonlat[0]:.6f}, lat {pkg.lonlat[1]:.6f}"
             if pkg.lonlat else "")
    return f"camera {pkg.camera}: {what} at {when}{where} (track {ev.track_id})"


class ServicesSink:
    """Writes packages through the evidence store and the review queue (see module doc)."""

    def __init__(self, evidence: EvidenceWriter, queue: FindingSubmitter, port_id: str,
                 rules: dict[str, Rules], run_id: str | None = None) -> None:
        self.evidence = evidence
        self.queue = queue
        self.port_id = port_id
        self.rules = rules
        self.run_id = run_id or datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self.written: list[tuple[Finding, Alarm | None]] = []

    def write(self, pkg: EvidencePackage) -> tuple[Finding, Alarm | None]:
        ev = pkg.event
        case_id = f"video:{pkg.camera}:{self.run_id}:{ev.event_id}"[:128]
        meta: dict[str, Any] = {"camera": pkg.camera, "event": ev.to_json(),
                                "fps": pkg.fps, "frames": pkg.frames}
        if pkg.lonlat:
            meta["lonlat"] = [round(pkg.lonlat[0], 7), round(pkg.lonlat[1], 7)]
        clip = self.evidence.put_capture(case_id, pkg.clip_mp4, "video/mp4",
                                         meta | {"role": "clip"})
        key = self.evidence.put_capture(case_id, pkg.keyframe_jpeg, "image/jpeg",
                                        meta | {"role": "keyframe"})
        self.evidence.record_inference(case_id, MODEL.name, MODEL.version, key,
                                       {"event": ev.to_json(), "clip_sha256": clip})
        rules = self.rules.get(pkg.camera, Rules())
        alarm, severity = _alarm_and_severity(ev, rules)
        x1, y1, x2, y2 = ev.box
        det = Detection(label=ev.label, score=1.0,
                        box=(x1, y1, max(x2, x1 + 1.0), max(y2, y1 + 1.0)))
        finding = Finding(id=new_id("fnd"), case_id=case_id, type=_TYPES[ev.type],
                          severity=severity, explanation=explain(pkg), port_id=self.port_id,
                          modality=Modality.PATROL_VIDEO, detections=[det],
                          evidence=[clip, key], model=MODEL)
        _, alarm_row = self.queue.submit_finding(finding, raise_alarm=alarm)
        self.written.append((finding, alarm_row))
        log.info("%s -> finding %s%s", ev.type.value, finding.id,
                 " + alarm" if alarm_row else "")
        return finding, alarm_row
