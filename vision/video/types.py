"""Typed interchange values of the video pipeline: detections, tracks and events.

Boxes are pixel ``xyxy`` (x right, y down) in the coordinate frame of the frame they were found
in, ``float32``. Times are seconds from the start of the stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
PERSON = "person"
VEHICLE = "vehicle"
OBJECT = "object"
LABELS = (PERSON, VEHICLE, OBJECT)


@dataclass(frozen=True)
class Detections:
    """``N`` detections in one frame.

    ``boxes``: ``float32 [N, 4]`` pixel xyxy with ``x2 > x1`` and ``y2 > y1``;
    ``scores``: ``float32 [N]`` in ``[0, 1]``; ``labels``: ``N`` strings from :data:`LABELS`.
    Raises ``ValueError`` on inconsistent shapes, degenerate boxes or unknown labels.
    """

    boxes: FloatArray
    scores: FloatArray
    labels: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.boxes.ndim != 2 or self.boxes.shape[1] != 4:
            raise ValueError(f"boxes must be [N, 4], got shape {self.boxes.shape}")
        n = self.boxes.shape[0]
        if self.scores.shape != (n,):
            raise ValueError(f"scores must be [{n}], got shape {self.scores.shape}")
        if len(self.labels) != n:
            raise ValueError(f"expected {n} labels, got {len(self.labels)}")
        if self.boxes.dtype != np.float32 or self.scores.dtype != np.float32:
            raise ValueError("boxes and scores must be float32")
        if n and not (np.all(self.boxes[:, 2] > self.boxes[:, 0])
                      and np.all(self.boxes[:, 3] > self.boxes[:, 1])):
            raise ValueError("boxes must be xyxy with x2 > x1 and y2 > y1")
        if n and not (np.all(self.scores >= 0.0) and np.all(self.scores <= 1.0)):
            raise ValueError("scores must lie in [0, 1]")
        unknown = set(self.labels) - set(LABELS)
        if unknown:
            raise ValueError(f"unknown labels {sorted(unknown)}; expected one of {LABELS}")

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    @staticmethod
    def empty() -> Detections:
        return Detections(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32), ())

    @staticmethod
    def from_lists(boxes: list[tuple[float, float, float, float]], scores: list[float],
                   labels: list[str]) -> Detections:
        """Build from plain Python lists (tests, adapters)."""
        b = np.asarray(boxes, np.float32).reshape(-1, 4)
        return Detections(b, np.asarray(scores, np.float32).reshape(-1), tuple(labels))

    def select(self, keep: npt.NDArray[np.bool_]) -> Detections:
        """The subset where ``keep`` (bool ``[N]``) is true."""
        idx = np.flatnonzero(keep)
        return Detections(self.boxes[idx], self.scores[idx], tuple(self.labels[i] for i in idx))

    def scaled(self, sx: float, sy: float) -> Detections:
        """Boxes multiplied by ``(sx, sy)`` (e.g. from a working resolution back to the frame)."""
        f = np.array([sx, sy, sx, sy], np.float32)
        return Detections((self.boxes * f).astype(np.float32), self.scores, self.labels)


class TrackState(Enum):
    TENTATIVE = "tentative"  # seen fewer than ``min_hits`` times: not reported
    CONFIRMED = "confirmed"
    LOST = "lost"  # not matched recently, kept for re-association


@dataclass(frozen=True)
class Track:
    """A confirmed track as reported for one frame. ``box`` is pixel xyxy (Kalman estimate)."""

    track_id: int
    box: tuple[float, float, float, float]
    score: float
    label: str
    hits: int
    first_seen: float
    matched: bool  # True when a detection updated the track in this frame

    @property
    def anchor(self) -> tuple[float, float]:
        """Bottom-centre of the box: where a person or vehicle touches the ground."""
        x1, _, x2, y2 = self.box
        return ((x1 + x2) / 2.0, y2)


class EventType(Enum):
    ZONE_INTRUSION = "zone_intrusion"
    TRIPWIRE = "tripwire"
    LOITERING = "loitering"
    ABANDONED_OBJECT = "abandoned_object"


@dataclass
class Event:
    """One analytic event.

    ``t_start``/``t_end`` in stream seconds (``t_end`` is ``None`` while the event is still
    open); ``box`` is pixel xyxy in the frame at ``t_start``; ``track_id`` is ``-1`` for events
    without a track (abandoned objects carry their own object id there). ``direction`` is set for
    tripwire crossings; ``world`` holds ground coordinates of the anchor (metres, map frame) when
    the camera pose is known.
    """

    event_id: int
    type: EventType
    t_start: float
    t_end: float | None
    track_id: int
    zone: str
    box: tuple[float, float, float, float]
    label: str = OBJECT
    direction: str | None = None
    world: tuple[float, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The CLI line: ``t_start, t_end, type, track_id, zone, box`` plus optional fields."""
        out: dict[str, Any] = {
            "t_start": round(self.t_start, 3),
            "t_end": None if self.t_end is None else round(self.t_end, 3),
            "type": self.type.value,
            "track_id": self.track_id,
            "zone": self.zone,
            "box": [round(float(v), 1) for v in self.box],
            "label": self.label,
        }
        if self.direction is not None:
            out["direction"] = self.direction
        if self.world is not None:
            out["world"] = [round(self.world[0], 2), round(self.world[1], 2)]
        return out
