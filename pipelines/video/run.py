"""Run one camera's analysis over a frame source (in-process; Ray actors wrap the same loop).

:class:`StreamAnalysis` owns the analyzer of one stream and turns frames into closed and opened
events; :func:`analyze_source` drives it to the end of a file. Frame-level errors that are the
input's fault (size change, missing pose) are logged and the frame is skipped, so one bad frame
does not end a stream.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kouan.errors import UsageError
from pipelines.video.config import RulesFile
from pipelines.video.sinks import ClipRecorder, EvidencePackage
from pipelines.video.sources import Frame, FrameSource
from vision.video.analyzer import FrameResult, VideoAnalyzer
from vision.video.events import EventBatch
from vision.video.ground import Intrinsics
from vision.video.types import Event

log = logging.getLogger(__name__)


@dataclass
class RunStats:
    frames: int = 0
    skipped: int = 0
    seconds: float = 0.0  # processing time, not stream time
    low_light_frames: int = 0
    relearns: int = 0

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


@dataclass
class StreamAnalysis:
    """Analyzer + rules of one stream. ``start``: wall-clock time of stream time 0, for rule
    schedules (None: rules always armed)."""

    rules: RulesFile
    fps: float
    size: tuple[int, int]
    start: datetime | None = None
    intrinsics: Intrinsics | None = None
    stats: RunStats = field(default_factory=RunStats)

    def __post_init__(self) -> None:
        self.rules.check_frame(*self.size)
        cfg = self.rules.analyzer_config(self.fps, self.size, self.intrinsics)
        self.analyzer = VideoAnalyzer(cfg, self.rules.rules())

    def process(self, frame: Frame) -> FrameResult | None:
        """Analyse one frame; ``None`` when it had to be skipped (logged)."""
        when = self.start + timedelta(seconds=frame.t) if self.start else None
        t0 = time.perf_counter()
        try:
            res = self.analyzer.process(frame.image, frame.t, when, frame.pose)
        except ValueError as exc:
            self.stats.skipped += 1
            log.warning("frame %d skipped: %s", frame.index, exc)
            return None
        finally:
            self.stats.seconds += time.perf_counter() - t0
        self.stats.frames += 1
        self.stats.low_light_frames += int(res.low_light)
        self.stats.relearns += int(res.relearned)
        return res

    def finish(self) -> EventBatch:
        return self.analyzer.finish()


def iterate(source: FrameSource, analysis: StreamAnalysis, every: int = 1,
            max_seconds: float | None = None) -> Iterator[tuple[Frame, FrameResult]]:
    """Frames of ``source`` (every ``every``-th, up to stream time ``max_seconds``) with
    their results."""
    if every < 1:
        raise UsageError("--every must be >= 1")
    while True:
        f = source.read()
        if f is None or (max_seconds is not None and f.t > max_seconds):
            return
        if f.index % every:
            continue
        res = analysis.process(f)
        if res is not None:
            yield f, res


def analyze_source(source: FrameSource, rules: RulesFile, *, every: int = 1,
                   start: datetime | None = None, intrinsics: Intrinsics | None = None,
                   max_seconds: float | None = None,
                   on_event: Callable[[Event], None] | None = None,
                   recorder: ClipRecorder | None = None,
                   on_package: Callable[[EvidencePackage], object] | None = None
                   ) -> tuple[list[Event], RunStats]:
    """Run to the end of ``source``; return the closed events in closing order and stats.

    ``on_event`` is called with each event as it closes (for streaming output); with a
    ``recorder``, ``on_package`` gets each event's evidence package once its clip is complete.
    """
    analysis = StreamAnalysis(rules, source.fps / every, source.size, start, intrinsics)
    closed: list[Event] = []

    def emit(batch: EventBatch) -> None:
        for ev in batch.closed:
            closed.append(ev)
            if on_event is not None:
                on_event(ev)

    def deliver(pkgs: list[EvidencePackage]) -> None:
        for p in pkgs:
            if on_package is not None:
                on_package(p)

    try:
        for frame, res in iterate(source, analysis, every, max_seconds):
            emit(res.events)
            if recorder is not None:
                deliver(recorder.push(frame, res.events.opened))
    finally:
        source.close()
    emit(analysis.finish())
    if recorder is not None:
        deliver(recorder.flush())
    return closed, analysis.stats
