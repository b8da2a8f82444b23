"""The camera rules file (``zones.json``) and the analysis options, as pydantic job configs.

Example (pixel coordinates of the full video frame, x right, y down)::

    {
      "camera": "perimeter-03",
      "timezone": "Asia/Shanghai",
      "zones": [
        {"name": "fuel_depot", "polygon": [[300, 250], [560, 250], [560, 432], [300, 432]],
         "restricted": true, "classes": ["person", "vehicle"], "loiter_s": 30,
         "schedule": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "18:00",
                       "end": "07:00"}]}
      ],
      "tripwires": [
        {"name": "fence", "a": [620, 240], "b": [620, 432], "forward": "out",
         "backward": "in", "alarm_on": ["in"], "margin": 4}
      ],
      "abandoned": {"after_s": 30},
      "analysis": {"detector": "motion+hog", "work_width": 384}
    }

Unknown keys, self-intersecting polygons and rules outside the frame are refused with a message
that names the rule (:class:`~kouan.errors.UsageError`, CLI exit 2).
"""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kouan.errors import UsageError
from vision.video.abandoned import AbandonedParams
from vision.video.analyzer import AnalyzerConfig
from vision.video.blobs import BlobParams
from vision.video.ground import Intrinsics
from vision.video.tracker import TrackerParams
from vision.video.zones import Rules, Schedule, TimeWindow, Tripwire, Zone

_DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
Label = Literal["person", "vehicle", "object"]
Severity = Literal["info", "low", "medium", "high", "critical"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WindowSpec(_Strict):
    days: list[str] = Field(default_factory=lambda: list(_DAYS), min_length=1,
                            description="mon..sun; default every day")
    start: time = Field(description="local time HH:MM")
    end: time = Field(description="local time HH:MM; earlier than start wraps past midnight")

    @field_validator("days")
    @classmethod
    def _check_days(cls, v: list[str]) -> list[str]:
        bad = [d for d in v if d.lower() not in _DAYS]
        if bad:
            raise ValueError(f"unknown day(s) {bad}; use {list(_DAYS)}")
        return [d.lower() for d in v]

    def to_window(self) -> TimeWindow:
        return TimeWindow(frozenset(_DAYS[d] for d in self.days), self.start, self.end)


class ZoneSpec(_Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    polygon: list[tuple[float, float]] = Field(min_length=3, max_length=256)
    restricted: bool = Field(default=False, description="an intrusion also raises an alarm")
    classes: list[Label] = Field(default_factory=list, description="empty: every class")
    loiter_s: float | None = Field(default=None, gt=0, le=86400)
    min_dwell_s: float = Field(default=0.3, ge=0, le=600)
    severity: Severity = "medium"
    schedule: list[WindowSpec] | None = Field(default=None, min_length=1)


class TripwireSpec(_Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    a: tuple[float, float]
    b: tuple[float, float]
    forward: str = Field(default="forward", min_length=1, max_length=32,
                         description="name of crossing from the left of a->b (on screen) to "
                         "its right")
    backward: str = Field(default="backward", min_length=1, max_length=32)
    alarm_on: list[str] = Field(default_factory=list)
    classes: list[Label] = Field(default_factory=list)
    margin: float = Field(default=3.0, ge=0, le=1000, description="hysteresis, plane units")
    repeat: bool = False
    severity: Severity = "medium"
    schedule: list[WindowSpec] | None = Field(default=None, min_length=1)


class AbandonedSpec(_Strict):
    after_s: float = Field(default=30.0, gt=0, le=3600,
                           description="still and unattended this long -> abandoned")
    min_area_px: int = Field(default=60, ge=4, description="working-resolution pixels")


class AnalysisSpec(_Strict):
    detector: Literal["motion", "motion+hog", "hog"] = "motion+hog"
    work_width: int = Field(default=384, ge=64, le=1920)
    anchor: Literal["bottom", "center"] = "bottom"
    ego_motion: bool = Field(default=False, description="moving camera (robot, drone)")
    low_light: bool = True
    min_blob_area: int = Field(default=120, ge=4, description="working-resolution pixels")
    blob_close_px: tuple[int, int] = Field(default=(5, 11), description="closing kernel w, h")
    merge_gap_px: int = Field(default=6, ge=0, le=100)
    bg_tau_s: float = Field(default=10.0, gt=0, le=3600)
    exit_grace_s: float = Field(default=1.0, ge=0, le=60)
    max_lost_s: float = Field(default=3.0, gt=0, le=60)
    hfov_deg: float | None = Field(default=None, gt=1, lt=179,
                                   description="camera field of view (map plane only)")


class RulesFile(_Strict):
    camera: str = Field(default="camera", min_length=1, max_length=64,
                        pattern=r"^[A-Za-z0-9._:-]+$")
    plane: Literal["image", "map"] = "image"
    timezone: str = "Asia/Shanghai"
    zones: list[ZoneSpec] = Field(default_factory=list, max_length=64)
    tripwires: list[TripwireSpec] = Field(default_factory=list, max_length=64)
    abandoned: AbandonedSpec | None = None
    analysis: AnalysisSpec = Field(default_factory=AnalysisSpec)

    def rules(self) -> Rules:
        """The vision-level rules; ``UsageError`` naming the rule when one is invalid."""
        try:
            zones = tuple(Zone(z.name, tuple(z.polygon), z.restricted, frozenset(z.classes),
                               z.loiter_s, z.min_dwell_s, self._schedule(z.schedule),
                               z.severity) for z in self.zones)
            wires = tuple(Tripwire(w.name, w.a, w.b, w.forward, w.backward,
                                   frozenset(w.classes), frozenset(w.alarm_on),
                                   self._schedule(w.schedule), w.severity, w.margin, w.repeat)
                          for w in self.tripwires)
            return Rules(zones, wires)
        except ValueError as exc:
            raise UsageError(f"rules of camera {self.camera!r}: {exc}") from None

    def _schedule(self, spec: list[WindowSpec] | None) -> Schedule | None:
        if spec is None:
            return None
        return Schedule(tuple(w.to_window() for w in spec), self.timezone)

    def analyzer_config(self, fps: float, frame_size: tuple[int, int],
                        intrinsics: Intrinsics | None = None) -> AnalyzerConfig:
        """Analyzer settings for a stream of ``fps`` frames of ``frame_size = (w, h)``."""
        a = self.analysis
        if self.plane == "map" and intrinsics is None:
            if a.hfov_deg is None:
                raise UsageError("plane 'map' needs analysis.hfov_deg (camera field of view)")
            intrinsics = Intrinsics.from_fov(frame_size[0], frame_size[1], a.hfov_deg)
        close_w, close_h = a.blob_close_px
        try:
            return AnalyzerConfig(
                fps=fps, work_width=a.work_width, detector=a.detector, low_light=a.low_light,
                ego_motion=a.ego_motion, bg_tau_s=a.bg_tau_s, anchor=a.anchor,
                plane=self.plane, intrinsics=intrinsics, exit_grace_s=a.exit_grace_s,
                blobs=BlobParams(min_area=a.min_blob_area, close_w=close_w, close_h=close_h,
                                 merge_gap=a.merge_gap_px),
                abandoned=(AbandonedParams(abandoned_s=self.abandoned.after_s,
                                           min_area=self.abandoned.min_area_px)
                           if self.abandoned else None),
                tracker=TrackerParams(max_lost_s=a.max_lost_s))
        except ValueError as exc:
            raise UsageError(f"analysis options: {exc}") from None

    def check_frame(self, width: int, height: int) -> None:
        """Refuse pixel-plane rules that lie (partly) outside a ``width x height`` frame."""
        if self.plane != "image":
            return
        bad = self.rules().outside_frame(width, height)
        if bad:
            raise UsageError(f"rule(s) {', '.join(bad)} lie outside the {width}x{height} frame "
                             "(coordinates are pixels of the full frame)")


def _one_line(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"{loc}: {err['msg']}" if loc else err["msg"])
    return "; ".join(parts)


def parse_rules(data: object, source: str = "rules") -> RulesFile:
    try:
        rf = RulesFile.model_validate(data)
    except ValidationError as exc:
        raise UsageError(f"{source}: {_one_line(exc)}") from None
    rf.rules()  # polygon and name checks now, not at the first frame
    try:
        Schedule((TimeWindow(frozenset({0}), time(0), time(1)),), rf.timezone)
    except ValueError as exc:
        raise UsageError(f"{source}: {exc}") from None
    return rf


def load_rules(path: Path) -> RulesFile:
    """Read and validate a rules file; ``UsageError`` (exit 2) with the reason otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read rules file {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    return parse_rules(data, str(path))
