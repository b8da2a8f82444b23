"""One camera's analysis chain, frame by frame: enhance -> ego-motion -> background ->
blobs -> HOG person check -> ByteTrack -> zone/tripwire/loitering and abandoned-object events.

Resolutions: background subtraction, ego-motion and abandoned-object logic run on a *working*
copy ``work_width`` pixels wide (cheap and less noisy); the HOG check, tracks and every box that
leaves the analyzer are in full-frame pixels.

Rule planes: ``plane="image"`` rules are in full-frame pixels; ``plane="map"`` rules are in map
metres and every frame must come with the camera :class:`~vision.video.ground.Pose` (robot and
drone feeds); anchors are then projected to the ground with the camera ``intrinsics``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from vision.video.abandoned import AbandonedObjectDetector, AbandonedParams
from vision.video.background import BackgroundModel, BackgroundParams
from vision.video.blobs import BlobParams, mask_to_detections
from vision.video.egomotion import Affine, EgoMotionEstimator
from vision.video.events import Counter, EventBatch, EventEngine
from vision.video.geometry import Point
from vision.video.ghosts import edge_support
from vision.video.ground import Intrinsics, Pose, image_to_ground
from vision.video.hog import HogPeopleDetector
from vision.video.lighting import LowLightEnhancer, mean_luma
from vision.video.tracker import ByteTracker, TrackerParams
from vision.video.types import Detections, Track
from vision.video.zones import Rules

U8Image = npt.NDArray[np.uint8]
DetectorKind = Literal["motion", "motion+hog", "hog"]


@dataclass(frozen=True)
class AnalyzerConfig:
    """``fps``: nominal frame rate the time constants are converted with. ``detector``:
    ``motion`` (blobs only), ``motion+hog`` (blobs, HOG votes for ``person`` every
    ``hog_every`` frames) or ``hog`` (full-frame HOG only, no background model). ``anchor``:
    ``bottom`` (oblique cameras: feet on the ground) or ``center`` (nadir drone cameras)."""

    fps: float = 10.0
    work_width: int = 384
    detector: DetectorKind = "motion+hog"
    hog_every: int = 2
    low_light: bool = True
    low_light_threshold: float = 60.0
    ego_motion: bool = False
    bg_tau_s: float = 10.0
    anchor: Literal["bottom", "center"] = "bottom"
    plane: Literal["image", "map"] = "image"
    intrinsics: Intrinsics | None = None
    exit_grace_s: float = 1.0
    ghost_ratio: float = 0.7
    background: BackgroundParams = field(default_factory=BackgroundParams)
    blobs: BlobParams = field(default_factory=BlobParams)
    tracker: TrackerParams = field(default_factory=TrackerParams)
    abandoned: AbandonedParams | None = None

    def __post_init__(self) -> None:
        if not 0.1 <= self.fps <= 240:
            raise ValueError(f"fps must be in [0.1, 240], got {self.fps}")
        if not 64 <= self.work_width <= 1920:
            raise ValueError("work_width must be in [64, 1920]")
        if self.hog_every < 1 or self.bg_tau_s <= 0:
            raise ValueError("hog_every must be >= 1 and bg_tau_s > 0")
        if self.plane == "map" and self.intrinsics is None:
            raise ValueError("plane='map' needs camera intrinsics")


@dataclass
class FrameResult:
    """What one frame produced. ``tracks`` in full-frame pixels; ``gain``: exposure factor the
    background model divided out; ``ego_ok``: a camera motion was estimated this frame."""

    t: float
    tracks: list[Track]
    events: EventBatch
    detections: Detections
    fg_fraction: float = 0.0
    gain: float = 1.0
    relearned: bool = False
    low_light: bool = False
    ego_ok: bool = False


def _scale_affine(m: Affine, sx: float, sy: float) -> Affine:
    s = np.diag([sx, sy, 1.0])
    full = s @ np.vstack([m, [0.0, 0.0, 1.0]]) @ np.linalg.inv(s)
    out: Affine = full[:2]
    return out


class VideoAnalyzer:
    """Stateful per-stream analyzer; not thread-safe (one per stream)."""

    def __init__(self, config: AnalyzerConfig, rules: Rules) -> None:
        self.cfg = config
        self.rules = rules
        dt = 1.0 / config.fps
        rate = float(min(0.5, 1.0 - math.exp(-dt / config.bg_tau_s)))
        self._bg = BackgroundModel(replace(config.background, rate=rate))
        self._ego = EgoMotionEstimator() if config.ego_motion else None
        self._enhance = LowLightEnhancer(config.low_light_threshold) if config.low_light else None
        self._hog = HogPeopleDetector() if config.detector != "motion" else None
        self._tracker = ByteTracker(replace(config.tracker, frame_dt=dt))
        ids = Counter()
        self._events = EventEngine(rules, config.exit_grace_s, ids)
        self._abandoned_params = config.abandoned
        self._ids = ids
        self._abandoned: AbandonedObjectDetector | None = None
        self._pose: Pose | None = None
        self._frames = 0
        self._last_tracks: list[Track] = []
        self._size: tuple[int, int] | None = None

    def _to_plane(self, x: float, y: float) -> Point | None:
        if self.cfg.plane == "image":
            return (x, y)
        if self._pose is None or self.cfg.intrinsics is None:
            return None
        return image_to_ground(self.cfg.intrinsics, self._pose, x, y)

    def _anchor(self, tr: Track) -> Point:
        x1, y1, x2, y2 = tr.box
        return ((x1 + x2) / 2, y2) if self.cfg.anchor == "bottom" else ((x1 + x2) / 2,
                                                                          (y1 + y2) / 2)

    def _work_size(self, w: int, h: int) -> tuple[int, int]:
        ww = min(self.cfg.work_width, w)
        return ww, max(16, round(h * ww / w))

    def process(self, frame: U8Image, t: float, when: datetime | None = None,
                pose: Pose | None = None) -> FrameResult:
        """Analyse one BGR ``uint8 [H, W, 3]`` frame at stream time ``t`` (seconds).

        ``when``: wall-clock time for rule schedules; ``pose``: camera pose (required when
        ``plane == "map"``). Raises ``ValueError`` on a bad frame, a frame size change or a
        missing pose.
        """
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"expected BGR uint8 [H, W, 3], got {frame.dtype} {frame.shape}")
        h, w = frame.shape[:2]
        if self._size is None:
            self._size = (w, h)
        elif self._size != (w, h):
            raise ValueError(f"frame size changed from {self._size} to {(w, h)}")
        if self.cfg.plane == "map" and pose is None:
            raise ValueError("this camera's rules are on the map: every frame needs a pose")
        self._pose = pose
        self._frames += 1
        ww, wh = self._work_size(w, h)
        sx, sy = w / ww, h / wh
        small = np.asarray(cv2.resize(frame, (ww, wh), interpolation=cv2.INTER_AREA),
                           dtype=np.uint8)
        low = self._enhance is not None and mean_luma(small) < self.cfg.low_light_threshold
        if low and self._enhance is not None:
            frame = self._enhance(frame)
            small = self._enhance(small)
        grey = np.asarray(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), dtype=np.uint8)

        warp_w: Affine | None = None
        ego_ok = False
        if self._ego is not None:
            est = self._ego.update(grey)
            warp_w, ego_ok = est.matrix, est.ok
        warp_f = _scale_affine(warp_w, sx, sy) if warp_w is not None else None

        person: npt.NDArray[np.float32] | None = None
        fg_fraction, gain, relearned = 0.0, 1.0, False
        if self.cfg.detector == "hog":
            assert self._hog is not None
            dets = self._hog.detect(frame)
            person = dets.scores.copy()
        else:
            freeze = np.zeros((wh, ww), bool)
            for tr in self._last_tracks:  # tracked objects stay out of the background
                x1, y1, x2, y2 = tr.box
                freeze[max(0, int(y1 / sy)):int(y2 / sy) + 1,
                       max(0, int(x1 / sx)):int(x2 / sx) + 1] = True
            fg = self._bg.apply(grey, warp_w, freeze)
            fg_fraction, gain, relearned = fg.fraction, fg.gain, fg.relearned
            dets = self._drop_ghosts(grey, fg.mask,
                                     mask_to_detections(fg.mask, self.cfg.blobs))
            dets = dets.scaled(sx, sy)
            if self._hog is not None and len(dets) and self._frames % self.cfg.hog_every == 0:
                person = self._hog.verify(frame, dets.boxes)

        tracks = self._tracker.update(dets, t, warp_f, person)
        self._last_tracks = tracks
        anchors = [self._to_plane(*self._anchor(tr)) for tr in tracks]
        keep = [i for i, a in enumerate(anchors) if a is not None]
        kept_tracks = [tracks[i] for i in keep]
        kept_anchors: list[Point] = [a for a in anchors if a is not None]
        world = kept_anchors if self.cfg.plane == "map" else None
        batch = self._events.step(t, kept_tracks, kept_anchors, when,
                                  self._tracker.removed_ids, world)
        if self._abandoned_params is not None:
            if self._abandoned is None:
                self._abandoned = AbandonedObjectDetector(
                    self._abandoned_params, 1.0 / self.cfg.fps, self.rules.zones, self._ids,
                    self._to_plane, (sx, sy))
            batch.extend(self._abandoned.step(grey, t, tracks, warp_w))
        return FrameResult(t, tracks, batch, dets, fg_fraction, gain, relearned, low, ego_ok)

    def _drop_ghosts(self, grey: U8Image, mask: U8Image, dets: Detections) -> Detections:
        """Remove ghost blobs (working pixels) and let the model absorb them quickly."""
        bg = self._bg.background()
        if bg is None or len(dets) == 0 or self.cfg.ghost_ratio <= 0:
            return dets
        ghost = edge_support(grey, bg, mask, dets.boxes) < self.cfg.ghost_ratio
        if not ghost.any():
            return dets
        where = np.zeros(grey.shape, bool)
        for x1, y1, x2, y2 in dets.boxes[ghost].astype(int).tolist():
            where[y1:y2 + 1, x1:x2 + 1] = True
        self._bg.absorb(where & (mask > 0))
        return dets.select(~ghost)

    def finish(self) -> EventBatch:
        """End of stream: close every open event (``t_end`` = last time seen)."""
        batch = self._events.finish()
        if self._abandoned is not None:
            batch.extend(self._abandoned.finish())
        self._tracker.finish()
        return batch
