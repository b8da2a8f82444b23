"""``kouan video``: perimeter and patrol video analytics from a terminal.

``analyze`` runs a file to the end and prints one event per line as it closes (JSON with
``--json``: ``t_start, t_end, type, track_id, zone, box`` plus ``label``, ``direction`` and
``world`` where they apply). ``watch`` follows a live RTSP/HTTP stream, reconnecting when it
drops, until interrupted or ``--max-seconds``. With ``--submit`` each event also becomes
evidence (clip + keyframe), a finding in the review queue and, for restricted rules, an alarm.

Exit codes: 0 done; 1 a stream was lost for good or a service is unavailable; 2 bad input
(unreadable or truncated-to-nothing video, invalid rules, bad sidecar).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kouan.config import get_settings
from kouan.errors import UsageError

if TYPE_CHECKING:
    from pipelines.video.config import RulesFile
    from pipelines.video.sinks import EvidencePackage
    from pipelines.video.sources import FrameSource
    from vision.video.types import Event

video_app = typer.Typer(help="Perimeter/patrol video: analyze files, watch live streams.",
                        no_args_is_help=True)
log = logging.getLogger(__name__)


def _line(ev: Event, as_json: bool) -> str:
    if as_json:
        return json.dumps(ev.to_json(), ensure_ascii=False)
    d = ev.to_json()
    extra = f" {d['direction']}" if "direction" in d else ""
    world = f" world={d['world']}" if "world" in d else ""
    return (f"{d['t_start']:8.2f}-{d['t_end']:8.2f}s  {d['type']:<16} track {d['track_id']:<4}"
            f" {d['label']:<7} {d['zone']}{extra}  box={d['box']}{world}")


def _start_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--start {text!r} must be an ISO time such as "
                         "2026-03-02T22:15:00+08:00") from None
    if dt.tzinfo is None:
        raise UsageError("--start needs a timezone offset, e.g. +08:00")
    return dt


def _rules(zones: Path | None, port_map: Path | None) -> tuple[RulesFile, Any]:
    from pipelines.video.config import load_rules
    from pipelines.video.portmap import load_port_map

    if port_map is not None:
        analysis = None
        if zones is not None:
            analysis = load_rules(zones).analysis.model_dump()
        pm = load_port_map(port_map, analysis)
        return pm.rules, pm.origin
    if zones is None:
        raise UsageError("give --zones zones.json (or --map port_map.geojson for a robot feed)")
    return load_rules(zones), None


class _Submitter:
    """Writes evidence packages through the services (built lazily, closed at the end)."""

    def __init__(self, rules: RulesFile) -> None:
        from kouan.services import build_services
        from pipelines.video.sinks import ServicesSink

        self.services = build_services(get_settings())
        self.sink = ServicesSink(self.services.evidence, self.services.queue,
                                 self.services.settings.port_code,
                                 {rules.camera: rules.rules()})
        self.services.relay.start()

    def __call__(self, pkg: EvidencePackage) -> None:
        finding, alarm = self.sink.write(pkg)
        typer.echo(f"# finding {finding.id}{' alarm ' + alarm.id if alarm else ''}",
                   err=True)

    def close(self) -> None:
        self.services.relay.stop()
        self.services.close()


def _run(source: FrameSource, rules: RulesFile, origin: Any, as_json: bool, submit: bool,
         start: datetime | None, every: int, max_seconds: float | None) -> None:
    from pipelines.video.run import analyze_source
    from pipelines.video.sinks import ClipRecorder

    submitter = _Submitter(rules) if submit else None
    recorder = (ClipRecorder(rules.camera, source.fps / every, start=start, origin=origin)
                if submitter else None)
    try:
        events, stats = analyze_source(
            source, rules, every=every, start=start, max_seconds=max_seconds,
            on_event=lambda ev: typer.echo(_line(ev, as_json)), recorder=recorder,
            on_package=submitter)
    finally:
        if submitter is not None:
            submitter.close()
    typer.echo(f"# {stats.frames} frames analysed at {stats.fps:.1f} frames/s, "
               f"{len(events)} events, {stats.skipped} skipped, "
               f"{stats.low_light_frames} low-light", err=True)


@video_app.command("analyze")
def analyze(
    video: Annotated[Path, typer.Argument(help="video file (any format FFmpeg reads)")],
    zones: Annotated[Path | None, typer.Option("--zones", help="camera rules (zones.json)")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
    port_map: Annotated[Path | None, typer.Option(
        "--map", help="port map GeoJSON (robot feeds: rules in world coordinates)")] = None,
    poses: Annotated[Path | None, typer.Option(
        "--poses", help="pose/GPS sidecar, JSON lines with t (s) per pose")] = None,
    every: Annotated[int, typer.Option(help="analyse every N-th frame")] = 1,
    start: Annotated[str | None, typer.Option(
        help="wall-clock time of the first frame (ISO, with offset) for rule schedules")] = None,
    max_seconds: Annotated[float | None, typer.Option(help="stop after this stream time")]
    = None,
    submit: Annotated[bool, typer.Option(
        help="store evidence, queue findings and raise alarms")] = False,
) -> None:
    """Analyse VIDEO and print one event per line."""
    from pipelines.video.sources import FileSource, RobotSource, load_sidecar

    rules, origin = _rules(zones, port_map)
    if rules.plane == "map" and poses is None:
        raise UsageError("rules on the port map need --poses (the camera pose sidecar)")
    source: FrameSource = FileSource(video)
    if poses is not None:
        source = RobotSource(source, load_sidecar(poses, origin))
    _run(source, rules, origin, as_json, submit, _start_time(start), every, max_seconds)


@video_app.command("watch")
def watch(
    url: Annotated[str, typer.Argument(help="rtsp://, http(s):// or any FFmpeg URL")],
    zones: Annotated[Path, typer.Option("--zones", help="camera rules (zones.json)")],
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
    max_seconds: Annotated[float | None, typer.Option(help="stop after this many seconds")]
    = None,
    reconnects: Annotated[int, typer.Option(help="give up after N failed reconnects in a row")]
    = 20,
    submit: Annotated[bool, typer.Option(
        help="store evidence, queue findings and raise alarms")] = False,
) -> None:
    """Follow a live stream; frames are dropped (never queued) when analysis falls behind."""
    from pipelines.video.grabber import FrameGrabber, LiveSource
    from pipelines.video.sources import ReconnectPolicy, StreamSource

    rules, origin = _rules(zones, None)
    policy = ReconnectPolicy(max_attempts=reconnects)
    stream = StreamSource(url, policy)
    grabber = FrameGrabber(stream).start()
    live = LiveSource(grabber, policy.open_timeout_s + policy.read_timeout_s, max_seconds)
    try:
        _run(live, rules, origin, as_json, submit, datetime.now(UTC), 1, None)
    finally:
        grabber.stop()
    typer.echo(f"# read {grabber.stats.read}, dropped {grabber.stats.dropped} "
               f"(back-pressure), reconnects {stream.reconnects}", err=True)
    if grabber.error is not None:
        raise grabber.error


def register(app: typer.Typer) -> None:
    app.add_typer(video_app, name="video")
