"""Abandoned objects by dual background subtraction (Porikli, Ivanov & Haga, 2008).

Two background models run side by side: a *long-term* one that learns very slowly and a
*short-term* one that absorbs anything that stops moving within seconds. A pixel that is
foreground for the long-term model but background for the short-term one belongs to something
that arrived and then stayed still. Static evidence accumulates per pixel (seconds of being
static, decaying twice as fast when not); regions static for ``abandoned_s`` that are not near
a person track become abandoned-object events. Because the short model already knows the empty
scene again when a person who stood still walks off, the "ghost" they leave is not static.

Event ``track_id`` is the object's own id; ``zone`` the zone holding the object's bottom centre
(``""`` if none); ``t_start`` is the estimated drop time
(first detection minus ``abandoned_s``); the event closes when the object is gone (removed or,
much later, learnt by the long-term model) for ``grace_s``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from vision.video.background import BackgroundModel, BackgroundParams, warp_f32
from vision.video.egomotion import Affine
from vision.video.events import Counter, EventBatch
from vision.video.geometry import box_iou
from vision.video.ghosts import edge_support
from vision.video.types import OBJECT, PERSON, Event, EventType, Track
from vision.video.zones import Zone

F32Image = npt.NDArray[np.float32]
U8Image = npt.NDArray[np.uint8]
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class AbandonedParams:
    """Times in seconds; sizes in working-resolution pixels. ``owner_margin``: a person track
    whose box, grown by this fraction of the object size, touches the object keeps it
    "attended"."""

    abandoned_s: float = 10.0
    long_tau_s: float = 600.0
    short_tau_s: float = 2.0
    min_area: int = 60
    max_area_fraction: float = 0.2
    owner_margin: float = 1.0
    grace_s: float = 2.0
    ghost_ratio: float = 0.7
    init_s: float = 3.0  # the long-term model starts from the median of this many seconds

    def __post_init__(self) -> None:
        if min(self.abandoned_s, self.long_tau_s, self.short_tau_s, self.grace_s) <= 0:
            raise ValueError("times must be > 0")
        if self.short_tau_s >= self.long_tau_s:
            raise ValueError("short_tau_s must be shorter than long_tau_s")


@dataclass
class _Object:
    oid: int
    box: Box
    first: float
    last: float
    event: Event | None = None


def _rate(tau_s: float, frame_dt: float) -> float:
    return float(min(0.5, max(1e-5, 1.0 - np.exp(-frame_dt / tau_s))))


class AbandonedObjectDetector:
    """Feed grey working-resolution frames with their time, camera motion and current tracks."""

    def __init__(self, params: AbandonedParams, frame_dt: float,
                 zones: Sequence[Zone] = (), next_id: Callable[[], int] | None = None,
                 to_zone_plane: Callable[[float, float], tuple[float, float] | None]
                 | None = None, scale: tuple[float, float] = (1.0, 1.0)) -> None:
        if frame_dt <= 0:
            raise ValueError("frame_dt must be > 0")
        if min(scale) <= 0:
            raise ValueError("scale factors must be > 0")
        self._scale = scale
        self.p = params
        boot = max(5, round(params.init_s / frame_dt))
        self._long = BackgroundModel(BackgroundParams(rate=_rate(params.long_tau_s, frame_dt),
                                                      fg_rate_factor=0.05, warmup=10,
                                                      init_frames=boot))
        self._short = BackgroundModel(BackgroundParams(rate=_rate(params.short_tau_s, frame_dt),
                                                       fg_rate_factor=1.0, warmup=3))
        self._evidence: F32Image | None = None
        self._t: float | None = None
        self._objects: list[_Object] = []
        self._zones = tuple(zones)
        self._next_event = next_id or Counter()
        self._next_oid = 1
        self._to_zone_plane = to_zone_plane

    def static_mask(self) -> U8Image | None:
        """``uint8`` 0/255 mask of pixels static for at least ``abandoned_s`` (debugging)."""
        if self._evidence is None:
            return None
        out: U8Image = (self._evidence >= self.p.abandoned_s).astype(np.uint8) * np.uint8(255)
        return out

    def _zone_of(self, box: Box) -> str:
        cx, cy = (box[0] + box[2]) / 2, box[3]
        p = self._to_zone_plane(cx, cy) if self._to_zone_plane else (cx, cy)
        if p is None:
            return ""
        for z in self._zones:
            if z.contains(p):
                return z.name
        return ""

    def step(self, grey: U8Image, t: float, tracks: Sequence[Track],
             warp: Affine | None = None) -> EventBatch:
        """One working-resolution frame (``uint8 [H, W]``) at time ``t`` with its camera motion
        ``warp`` (working pixels). ``tracks`` and the boxes of the events are in full-frame
        pixels: working pixels times ``scale``."""
        dt = 0.0 if self._t is None else max(0.0, t - self._t)
        self._t = t
        fl = self._long.apply(grey, warp)
        fs = self._short.apply(grey, warp)
        static = (fl.mask > 0) & (fs.mask == 0)
        if self._evidence is None or self._evidence.shape != grey.shape:
            self._evidence = np.zeros(grey.shape, np.float32)
        elif warp is not None:
            self._evidence = warp_f32(self._evidence, warp, cv2.INTER_NEAREST,
                                      cv2.BORDER_CONSTANT)
        if fl.relearned or fs.relearned:
            self._evidence[:] = 0.0
        ev = self._evidence
        ev += np.where(static, np.float32(dt), np.float32(-2.0 * dt))
        np.clip(ev, 0.0, 2.0 * self.p.abandoned_s, out=ev)
        return self._objects_step(t, self._candidates(grey, tracks))

    def _candidates(self, grey: U8Image, tracks: Sequence[Track]) -> list[Box]:
        assert self._evidence is not None
        mask = (self._evidence >= self.p.abandoned_s).astype(np.uint8)
        mask = np.asarray(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8)),
                          dtype=np.uint8)
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        limit = self.p.max_area_fraction * mask.shape[0] * mask.shape[1]
        comps = [(int(x), int(y), int(w), int(h)) for x, y, w, h, a in stats[1:]
                 if self.p.min_area <= a <= limit]
        comps = self._drop_ghosts(grey, mask, comps)
        people = [tr.box for tr in tracks if tr.label == PERSON]
        out: list[Box] = []
        for x, y, w, h in comps:
            sx, sy = self._scale
            box = (float(x) * sx, float(y) * sy, float(x + w) * sx, float(y + h) * sy)
            m = self.p.owner_margin * max(w * sx, h * sy)
            if any(pb[0] - m <= box[2] and box[0] <= pb[2] + m
                   and pb[1] - m <= box[3] and box[1] <= pb[3] + m for pb in people):
                continue  # attended: its owner (or a person standing still) is right there
            out.append(box)
        return out

    def _drop_ghosts(self, grey: U8Image, mask: U8Image,
                     comps: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
        """Static regions whose outline edges belong to the long-term background, not to the
        frame, are ghosts of something that left while the model was young: forget them."""
        bg = self._long.background()
        if bg is None or not comps:
            return comps
        boxes = np.array([(x, y, x + w, y + h) for x, y, w, h in comps], np.float32)
        ghost = edge_support(grey, bg, mask * np.uint8(255), boxes) < self.p.ghost_ratio
        assert self._evidence is not None
        for (x, y, w, h), g in zip(comps, ghost.tolist(), strict=True):
            if g:
                where = np.zeros(grey.shape, bool)
                where[y:y + h, x:x + w] = mask[y:y + h, x:x + w] > 0
                self._long.absorb(where)
                self._evidence[where] = 0.0
        return [c for c, g in zip(comps, ghost.tolist(), strict=True) if not g]

    def _objects_step(self, t: float, cands: list[Box]) -> EventBatch:
        batch = EventBatch()
        used: set[int] = set()
        for obj in self._objects:
            best, best_iou = -1, 0.3
            for j, c in enumerate(cands):
                iou = box_iou(obj.box, c)
                if j not in used and iou > best_iou:
                    best, best_iou = j, iou
            if best >= 0:
                used.add(best)
                obj.box, obj.last = cands[best], t
        for j, c in enumerate(cands):
            if j not in used:
                self._objects.append(_Object(self._next_oid, c, t, t))
                self._next_oid += 1
        keep: list[_Object] = []
        for obj in self._objects:
            if obj.event is None and obj.last == t:
                obj.event = Event(event_id=self._next_event(), type=EventType.ABANDONED_OBJECT,
                                  t_start=max(0.0, obj.first - self.p.abandoned_s), t_end=None,
                                  track_id=obj.oid, zone=self._zone_of(obj.box), box=obj.box,
                                  label=OBJECT)
                batch.opened.append(obj.event)
            if t - obj.last > self.p.grace_s:
                if obj.event is not None:
                    obj.event.t_end = obj.last
                    batch.closed.append(obj.event)
                continue
            keep.append(obj)
        self._objects = keep
        return batch

    def finish(self) -> EventBatch:
        batch = EventBatch()
        for obj in self._objects:
            if obj.event is not None:
                obj.event.t_end = obj.last
                batch.closed.append(obj.event)
        self._objects = []
        return batch
