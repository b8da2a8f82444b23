"""One Ray actor per camera stream, and the supervisor that runs them and writes their evidence.

:class:`StreamWorker` is a plain class (unit-testable without Ray); :class:`StreamSupervisor`
wraps it with ``ray.remote`` so each stream runs in its own worker process. Inside a worker a
:class:`~pipelines.video.grabber.FrameGrabber` thread reads the stream (reconnecting when it
drops) into a 2-frame buffer that drops the oldest frame instead of blocking, and a second
thread analyses what it gets. Finished evidence packages wait in the worker until the
supervisor drains them and writes them through the :class:`~pipelines.video.sinks.ServicesSink`
(one process talks to the database and the evidence store).

Isolation: a stream that fails (bad URL, reconnect budget spent, a crash of its process) shows
up as ``error`` in :meth:`StreamSupervisor.status`; the other actors are not touched.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pipelines.video.config import RulesFile, parse_rules
from pipelines.video.grabber import FrameGrabber
from pipelines.video.portmap import parse_port_map
from pipelines.video.run import StreamAnalysis
from pipelines.video.sinks import ClipRecorder, EvidencePackage, ServicesSink
from pipelines.video.sources import (
    FileSource,
    Frame,
    FrameSource,
    ReconnectPolicy,
    RobotSource,
    StreamSource,
    load_sidecar,
)
from vision.video.ground import GeoOrigin

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamSpec:
    """What to run for one camera (picklable: it travels to the actor).

    ``kind``: ``live`` (URL, reconnects) or ``file`` (a recording; with ``realtime`` it is
    paced at its frame rate like a camera, so back-pressure applies). ``rules``: the
    ``zones.json`` content; for robot feeds ``port_map`` (GeoJSON) + ``sidecar`` (pose file)."""

    name: str
    url: str
    kind: Literal["live", "file"] = "live"
    rules: dict[str, Any] = field(default_factory=dict)
    port_map: dict[str, Any] | None = None
    sidecar: str | None = None
    realtime: bool = True
    capacity: int = 2
    reconnect: ReconnectPolicy = field(default_factory=ReconnectPolicy)


class PacedSource:
    """Delivers a recording's frames no faster than its frame rate (a stand-in camera)."""

    def __init__(self, inner: FrameSource) -> None:
        self.inner = inner
        self.name, self.fps, self.size = inner.name, inner.fps, inner.size
        self._t0: float | None = None

    def read(self) -> Frame | None:
        f = self.inner.read()
        if f is None:
            return None
        if self._t0 is None:
            self._t0 = time.monotonic() - f.t
        wait = self._t0 + f.t - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        return f

    def close(self) -> None:
        self.inner.close()


def _rules_and_origin(spec: StreamSpec) -> tuple[RulesFile, GeoOrigin | None]:
    if spec.port_map is not None:
        analysis = spec.rules.get("analysis") if spec.rules else None
        pm = parse_port_map(spec.port_map, analysis, camera=spec.name)
        return pm.rules, pm.origin
    return parse_rules(dict(spec.rules, camera=spec.name), f"stream {spec.name}"), None


def open_source(spec: StreamSpec, origin: GeoOrigin | None) -> FrameSource:
    src: FrameSource
    if spec.kind == "file":
        src = FileSource(Path(spec.url))
        if spec.realtime:
            src = PacedSource(src)
    else:
        src = StreamSource(spec.url, spec.reconnect, name=spec.name)
    if spec.sidecar is not None:
        src = RobotSource(src, load_sidecar(Path(spec.sidecar), origin))
    return src


class StreamWorker:
    """Runs one stream (see module docstring). Methods are safe to call from another thread."""

    def __init__(self, spec: StreamSpec, start: datetime | None = None) -> None:
        self.spec = spec
        self.start_time = start or datetime.now(UTC)
        self._lock = threading.Lock()
        self._packages: list[EvidencePackage] = []
        self._events: list[dict[str, Any]] = []
        self._error: str | None = None
        self._done = threading.Event()
        self._grabber: FrameGrabber | None = None
        self._analysis: StreamAnalysis | None = None
        self._thread = threading.Thread(target=self._run, name=f"video-{spec.name}",
                                        daemon=True)
        self._cpu0 = time.process_time()
        self._wall0 = time.monotonic()

    def start(self) -> bool:
        self._cpu0, self._wall0 = time.process_time(), time.monotonic()
        self._thread.start()
        return True

    def _run(self) -> None:
        try:
            rules, origin = _rules_and_origin(self.spec)
            source = open_source(self.spec, origin)
            offline = self.spec.kind == "file" and not self.spec.realtime
            self._grabber = FrameGrabber(source, self.spec.capacity, block=offline).start()
            first = self._grabber.get(timeout=self.spec.reconnect.open_timeout_s + 5)
            if first is None:
                raise RuntimeError(f"no frame from {self.spec.url}")
            size = (int(first.image.shape[1]), int(first.image.shape[0]))
            self._analysis = StreamAnalysis(rules, source.fps, size, self.start_time)
            recorder = ClipRecorder(self.spec.name, source.fps, start=self.start_time,
                                    origin=origin)
            frame: Frame | None = first
            while frame is not None or not self._grabber.finished:
                if frame is not None:
                    self._step(frame, recorder)
                frame = self._grabber.get(timeout=0.5)
            self._collect(self._analysis.finish().closed, recorder.flush())
            if self._grabber.error is not None:
                raise self._grabber.error
        except Exception as exc:  # contained: reported by status(), other streams unaffected
            log.error("stream %s failed: %s", self.spec.name, exc)
            with self._lock:
                self._error = f"{type(exc).__name__}: {exc}"
        finally:
            self._done.set()

    def _step(self, frame: Frame, recorder: ClipRecorder) -> None:
        assert self._analysis is not None
        res = self._analysis.process(frame)
        if res is None:
            return
        self._collect(res.events.closed, recorder.push(frame, res.events.opened))

    def _collect(self, closed: list[Any], packages: list[EvidencePackage]) -> None:
        with self._lock:
            self._events += [e.to_json() for e in closed]
            self._packages += packages

    def drain(self) -> tuple[list[EvidencePackage], list[dict[str, Any]]]:
        """Take the finished evidence packages and closed events gathered so far."""
        with self._lock:
            pk, ev = self._packages, self._events
            self._packages, self._events = [], []
        return pk, ev

    def status(self) -> dict[str, Any]:
        g, a = self._grabber, self._analysis
        inner = int(getattr(g.source, "reconnects", 0)) if g is not None else 0
        return {"name": self.spec.name, "done": self._done.is_set(), "error": self._error,
                "read": g.stats.read if g else 0, "dropped": g.stats.dropped if g else 0,
                "processed": a.stats.frames if a else 0,
                "analysis_fps": round(a.stats.fps, 1) if a else 0.0,
                "reconnects": inner,
                # CPU seconds of this worker's process (one actor per process) since start:
                # what the stream costs, whatever else the box is doing
                "cpu_s": round(time.process_time() - self._cpu0, 2),
                "wall_s": round(time.monotonic() - self._wall0, 2)}

    def stop(self, timeout_s: float = 15.0) -> dict[str, Any]:
        if self._grabber is not None:
            self._grabber.stop()
        self._thread.join(timeout_s)
        return self.status()

    def wait(self, timeout_s: float) -> bool:
        return self._done.wait(timeout_s)


class StreamSupervisor:
    """Starts one Ray actor per :class:`StreamSpec` and writes their evidence via ``sink``.

    Ray must already be initialised (``ray.init`` by the caller). ``cpus_per_stream``: the Ray
    CPU reservation of each actor (0.5 lets a 2-core box host 4 streams' actors; whether they
    keep up is what ``bench/bench_video.py`` measures).
    """

    def __init__(self, sink: ServicesSink | None, cpus_per_stream: float = 0.5) -> None:
        import ray

        self._ray = ray
        self._remote = ray.remote(num_cpus=cpus_per_stream, max_restarts=0)(StreamWorker)
        self.sink = sink
        self.actors: dict[str, Any] = {}
        self.failed: dict[str, str] = {}
        self.events: dict[str, list[dict[str, Any]]] = {}

    def add(self, spec: StreamSpec, start: datetime | None = None) -> None:
        if spec.name in self.actors:
            raise ValueError(f"stream {spec.name!r} is already running")
        rules, _ = _rules_and_origin(spec)  # bad rules fail here, before an actor starts
        if self.sink is not None:
            self.sink.rules[spec.name] = rules.rules()
        actor: Any = self._remote.options(name=f"video-{spec.name}-{id(self)}").remote(
            spec, start)
        self._ray.get(actor.start.remote())
        self.actors[spec.name] = actor
        self.events[spec.name] = []

    def poll(self) -> int:
        """Drain every live actor and write its packages; returns how many were written."""
        written = 0
        for name, actor in list(self.actors.items()):
            try:
                packages, events = self._ray.get(actor.drain.remote(), timeout=30)
            except Exception as exc:  # the actor's process died: isolate, keep the others
                self.failed[name] = f"{type(exc).__name__}: {exc}"
                log.error("stream %s lost its actor: %s", name, exc)
                del self.actors[name]
                continue
            self.events[name] += events
            for pkg in packages:
                if self.sink is not None:
                    self.sink.write(pkg)
                written += 1
        return written

    def status(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {n: {"name": n, "done": True, "error": e}
                                          for n, e in self.failed.items()}
        for name, actor in self.actors.items():
            try:
                out[name] = self._ray.get(actor.status.remote(), timeout=30)
            except Exception as exc:
                out[name] = {"name": name, "done": True, "error": f"{type(exc).__name__}: {exc}"}
        return out

    def run_until_done(self, timeout_s: float, poll_s: float = 0.5) -> dict[str, dict[str, Any]]:
        """Poll until every stream is done (or failed) or ``timeout_s`` passes."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.poll()
            st = self.status()
            if all(s["done"] for s in st.values()):
                break
            time.sleep(poll_s)
        self.poll()
        return self.status()

    def stop(self) -> dict[str, dict[str, Any]]:
        final: dict[str, dict[str, Any]] = {}
        for name, actor in self.actors.items():
            try:
                final[name] = self._ray.get(actor.stop.remote(), timeout=60)
            except Exception as exc:
                final[name] = {"name": name, "error": f"{type(exc).__name__}: {exc}"}
        self.poll()
        for actor in self.actors.values():
            self._ray.kill(actor)
        self.actors.clear()
        return final
