"""ByteTrack-style multi-object tracker with stable ids.

Follows ByteTrack (Zhang et al., 2022): Kalman prediction, then

1. high-score detections vs. confirmed and lost tracks,
2. low-score detections vs. the confirmed tracks still unmatched (recovers occluded or
   half-subtracted objects instead of dropping them),
3. remaining high-score detections vs. tentative tracks;
4. unmatched high-score detections start tentative tracks; a track is *confirmed* (and only then
   gets an id, so ids are consecutive and never wasted on noise) after ``min_hits`` matches;
   confirmed tracks unmatched for ``max_lost_s`` seconds are removed.

Two additions for this project: the cost is ``1 - max(IoU, 0.5 * proximity)`` where proximity
falls linearly from 1 at the predicted centre to 0 at ``gate`` box diagonals, so fast objects at
low frame rates (a car at 5 fps rarely overlaps its previous box) are still associated; and
``update(..., warp=M)`` applies camera motion to every track first (BoT-SORT's camera-motion
compensation), for robot and drone cameras.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from vision.video.kalman import BoxKalman
from vision.video.types import PERSON, Detections, Track, TrackState

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TrackerParams:
    """Scores in [0, 1]; ``match_cost`` thresholds are on ``1 - similarity``; times in seconds.
    ``frame_dt`` is the nominal frame interval the Kalman noise is tuned for."""

    high: float = 0.5
    low: float = 0.1
    new_track: float = 0.6
    match_cost: float = 0.8
    low_match_cost: float = 0.5
    tentative_match_cost: float = 0.7
    min_hits: int = 3
    max_lost_s: float = 3.0
    gate: float = 1.5
    frame_dt: float = 0.1
    person_votes: float = 3.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.low <= self.high <= 1.0:
            raise ValueError("need 0 <= low <= high <= 1")
        if self.min_hits < 1 or self.max_lost_s <= 0 or self.gate <= 0 or self.frame_dt <= 0:
            raise ValueError("min_hits >= 1, max_lost_s > 0, gate > 0, frame_dt > 0 required")


@dataclass
class _State:
    kf: BoxKalman
    score: float
    first_seen: float
    last_seen: float
    hits: int = 1
    track_id: int = -1
    state: TrackState = TrackState.TENTATIVE
    votes: dict[str, float] = field(default_factory=dict)
    matched: bool = True

    def label(self) -> str:
        return max(self.votes.items(), key=lambda kv: kv[1])[0]


def similarity(tracks: F64, dets: F64, gate: float) -> F64:
    """``[T, D]`` similarity in [0, 1] between xyxy ``tracks [T, 4]`` and ``dets [D, 4]``:
    ``max(IoU, 0.5 * proximity)`` (see module docstring)."""
    if tracks.size == 0 or dets.size == 0:
        return np.zeros((tracks.shape[0], dets.shape[0]), np.float64)
    t = tracks[:, None, :]
    d = dets[None, :, :]
    iw = np.clip(np.minimum(t[..., 2], d[..., 2]) - np.maximum(t[..., 0], d[..., 0]), 0, None)
    ih = np.clip(np.minimum(t[..., 3], d[..., 3]) - np.maximum(t[..., 1], d[..., 1]), 0, None)
    inter = iw * ih
    area_t = (t[..., 2] - t[..., 0]) * (t[..., 3] - t[..., 1])
    area_d = (d[..., 2] - d[..., 0]) * (d[..., 3] - d[..., 1])
    iou = inter / np.maximum(area_t + area_d - inter, 1e-9)
    ct = (t[..., :2] + t[..., 2:]) / 2
    cd = (d[..., :2] + d[..., 2:]) / 2
    dist = np.linalg.norm(ct - cd, axis=-1)
    diag = np.hypot(t[..., 2] - t[..., 0], t[..., 3] - t[..., 1])
    prox = np.clip(1.0 - dist / np.maximum(gate * diag, 1e-9), 0.0, 1.0)
    # Proximity alone must not pair a tiny blob with a huge box: require similar heights.
    ht, hd = t[..., 3] - t[..., 1], d[..., 3] - d[..., 1]
    ratio = np.minimum(ht, hd) / np.maximum(np.maximum(ht, hd), 1e-9)
    prox = np.where(ratio > 0.5, prox, 0.0)
    out: F64 = np.maximum(iou, 0.5 * prox)
    return out


def _assign(cost: F64, max_cost: float) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Optimal assignment with a cost ceiling: (matches, unmatched rows, unmatched cols)."""
    if cost.size == 0:
        return [], list(range(cost.shape[0])), list(range(cost.shape[1]))
    rows, cols = linear_sum_assignment(cost)
    matches = [(int(r), int(c)) for r, c in zip(rows, cols, strict=True)
               if cost[r, c] <= max_cost]
    mr = {r for r, _ in matches}
    mc = {c for _, c in matches}
    return (matches, [r for r in range(cost.shape[0]) if r not in mr],
            [c for c in range(cost.shape[1]) if c not in mc])


class ByteTracker:
    """Feed :class:`Detections` frame by frame with the frame time; get confirmed tracks."""

    def __init__(self, params: TrackerParams | None = None) -> None:
        self.p = params or TrackerParams()
        self._tracks: list[_State] = []
        self._next_id = 1
        self._t: float | None = None
        self.removed_ids: list[int] = []
        """Ids of confirmed tracks dropped by the last :meth:`update` (their objects are gone)."""

    def reset(self) -> None:
        self._tracks = []
        self._t = None
        self.removed_ids = []

    def finish(self) -> list[int]:
        """End of stream: drop every track and return the ids of the confirmed ones."""
        ids = [s.track_id for s in self._tracks if s.track_id >= 0]
        self._tracks = []
        return ids

    def _match(self, pool: list[_State], boxes: F64, det_idx: list[int],
               max_cost: float) -> tuple[list[tuple[_State, int]], list[_State], list[int]]:
        if not pool or not det_idx:
            return [], list(pool), list(det_idx)
        tb = np.array([s.kf.box() for s in pool], np.float64)
        cost = 1.0 - similarity(tb, boxes[det_idx], self.p.gate)
        m, ur, uc = _assign(cost, max_cost)
        return ([(pool[r], det_idx[c]) for r, c in m], [pool[r] for r in ur],
                [det_idx[c] for c in uc])

    def update(self, dets: Detections, t: float, warp: F64 | None = None,
               person_scores: npt.NDArray[np.float32] | None = None) -> list[Track]:
        """Advance to time ``t`` (seconds, non-decreasing) with this frame's detections.

        ``warp``: camera motion ``[2, 3]`` previous -> current frame; ``person_scores``: optional
        ``float32 [N]`` HOG person score per detection, which votes for the ``person`` label.
        Returns the confirmed tracks that are currently visible or predicted (lost tracks are
        not returned).
        """
        if self._t is not None and t < self._t:
            raise ValueError(f"time went backwards: {t} < {self._t}")
        if person_scores is not None and person_scores.shape != (len(dets),):
            raise ValueError("person_scores must have one value per detection")
        dt = 0.0 if self._t is None else t - self._t
        self._t = t
        for s in self._tracks:
            if warp is not None:
                s.kf.warp(warp)
            s.kf.predict(dt)
            s.matched = False
        boxes = dets.boxes.astype(np.float64)
        scores = dets.scores
        high = [i for i in range(len(dets)) if scores[i] >= self.p.high]
        low = [i for i in range(len(dets)) if self.p.low <= scores[i] < self.p.high]
        active = [s for s in self._tracks if s.state is not TrackState.TENTATIVE]
        tentative = [s for s in self._tracks if s.state is TrackState.TENTATIVE]

        m1, left_tracks, left_high = self._match(active, boxes, high, self.p.match_cost)
        still = [s for s in left_tracks if s.state is TrackState.CONFIRMED]
        m2, _, _ = self._match(still, boxes, low, self.p.low_match_cost)
        m3, dead_tentative, new_high = self._match(tentative, boxes, left_high,
                                                   self.p.tentative_match_cost)
        for s, i in m1 + m2 + m3:
            self._apply(s, dets, i, t, person_scores)

        removed = {id(s) for s in dead_tentative}
        for s in self._tracks:
            if s.matched or id(s) in removed:
                continue
            if t - s.last_seen > self.p.max_lost_s:
                removed.add(id(s))
            else:
                s.state = TrackState.LOST
        self.removed_ids = [s.track_id for s in self._tracks
                            if id(s) in removed and s.track_id >= 0]
        self._tracks = [s for s in self._tracks if id(s) not in removed]
        for i in new_high:
            if scores[i] < self.p.new_track:
                continue
            s = _State(BoxKalman(boxes[i], self.p.frame_dt), float(scores[i]), t, t)
            self._vote(s, dets.labels[i], float(scores[i]), person_scores, i)
            self._tracks.append(s)
            if self.p.min_hits <= 1:
                self._confirm(s)
        return [self._report(s) for s in self._tracks
                if s.state is TrackState.CONFIRMED]

    def _vote(self, s: _State, label: str, score: float,
              person_scores: npt.NDArray[np.float32] | None, i: int) -> None:
        s.votes[label] = s.votes.get(label, 0.0) + score
        if person_scores is not None and person_scores[i] > 0.5:
            s.votes[PERSON] = s.votes.get(PERSON, 0.0) + self.p.person_votes * person_scores[i]

    def _confirm(self, s: _State) -> None:
        s.state = TrackState.CONFIRMED
        if s.track_id < 0:
            s.track_id = self._next_id
            self._next_id += 1

    def _apply(self, s: _State, dets: Detections, i: int, t: float,
               person_scores: npt.NDArray[np.float32] | None) -> None:
        s.kf.update(dets.boxes[i].astype(np.float64))
        s.score = float(dets.scores[i])
        s.last_seen = t
        s.hits += 1
        s.matched = True
        self._vote(s, dets.labels[i], float(dets.scores[i]), person_scores, i)
        if s.state is TrackState.LOST or (s.state is TrackState.TENTATIVE
                                           and s.hits >= self.p.min_hits):
            self._confirm(s)

    def _report(self, s: _State) -> Track:
        b = s.kf.box()
        return Track(track_id=s.track_id, box=(float(b[0]), float(b[1]), float(b[2]),
                                                float(b[3])),
                     score=s.score, label=s.label(), hits=s.hits, first_seen=s.first_seen,
                     matched=s.matched)

    def lost_tracks(self) -> list[Track]:
        """Confirmed-once tracks currently coasting without detections."""
        return [self._report(s) for s in self._tracks if s.state is TrackState.LOST]
