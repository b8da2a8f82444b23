"""Frame sources: video files, live RTSP/HTTP streams (OpenCV/FFmpeg), robot feeds with poses.

Every source yields :class:`Frame` values (BGR ``uint8 [H, W, 3]``, stream time ``t`` in
seconds) through ``read()``, which returns ``None`` at the end of the stream. Files end; live
streams do not: when a stream stalls or drops, :class:`StreamSource` logs it and reconnects with
exponential back-off, and only gives up after ``max_reconnects`` failed attempts in a row.

Bad input becomes :class:`~kouan.errors.UsageError` (exit 2) with a reason: a file that is not a
video, has no decodable first frame, or a pose sidecar line without a timestamp.
"""

from __future__ import annotations

import bisect
import json
import logging
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

from kouan.errors import KouanError, UsageError
from vision.video.ground import GeoOrigin, Pose

log = logging.getLogger(__name__)
U8Image = npt.NDArray[np.uint8]


@dataclass
class Frame:
    index: int
    t: float
    image: U8Image
    pose: Pose | None = None


class FrameSource(Protocol):
    """What an analysis loop needs from a source."""

    name: str
    fps: float
    size: tuple[int, int]  # (width, height) of the frames

    def read(self) -> Frame | None: ...

    def close(self) -> None: ...


class StreamLost(KouanError):
    """A live stream could not be (re)opened within its reconnect budget."""


def _fps(cap: cv2.VideoCapture, default: float) -> float:
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    return fps if math.isfinite(fps) and 0.5 <= fps <= 240 else default


class FileSource:
    """A video file decoded with OpenCV. ``t = index / fps`` (container frame rate).

    A file that ends before the frame count in its header is *truncated*: the frames that
    decode are analysed, ``truncated`` becomes True and a warning is logged.
    """

    def __init__(self, path: Path, default_fps: float = 10.0) -> None:
        if not path.is_file():
            raise UsageError(f"video {path} does not exist or is not a file")
        self.name = path.name
        self._cap = cv2.VideoCapture(str(path))
        if not self._cap.isOpened():
            raise UsageError(f"cannot open {path} as a video (unknown or damaged container)")
        ok, first = self._cap.read()
        if not ok or first is None or first.ndim != 3:
            self._cap.release()
            raise UsageError(f"{path}: no decodable video frame (empty, truncated or not "
                             "a video)")
        self.fps = _fps(self._cap, default_fps)
        self.size = (int(first.shape[1]), int(first.shape[0]))
        self.declared_frames = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.truncated = False
        self._pending: U8Image | None = np.asarray(first, dtype=np.uint8)
        self._index = 0

    def read(self) -> Frame | None:
        if self._pending is not None:
            img, self._pending = self._pending, None
        else:
            ok, raw = self._cap.read()
            if not ok or raw is None:
                self._check_truncation()
                return None
            img = np.asarray(raw, dtype=np.uint8)
        if img.shape[1] != self.size[0] or img.shape[0] != self.size[1]:
            log.warning("%s: frame %d changed size to %s; stopping", self.name, self._index,
                        img.shape[1::-1])
            return None
        f = Frame(self._index, self._index / self.fps, img)
        self._index += 1
        return f

    def _check_truncation(self) -> None:
        # Containers round their frame counts; a shortfall of a few percent is not damage.
        if self.declared_frames and self._index < 0.95 * self.declared_frames - 2:
            self.truncated = True
            log.warning("%s: decoded %d of %d frames: the file is truncated or damaged",
                        self.name, self._index, self.declared_frames)

    def close(self) -> None:
        self._cap.release()


@dataclass
class ReconnectPolicy:
    """Back-off ``initial_s * 2**k`` capped at ``max_s``; give up after ``max_attempts``
    consecutive failures (``None``: never). ``read_timeout_s``: a read that waits this long is a
    stall (FFmpeg's read timeout)."""

    initial_s: float = 0.5
    max_s: float = 10.0
    max_attempts: int | None = 20
    open_timeout_s: float = 5.0
    read_timeout_s: float = 5.0


class StreamSource:
    """A live stream (``rtsp://``, ``http(s)://`` MJPEG/HLS, or anything FFmpeg opens).

    ``t`` is wall-clock seconds since the source was created (live streams have no reliable
    container clock across reconnects). ``reconnects`` counts successful re-openings.
    """

    def __init__(self, url: str, policy: ReconnectPolicy | None = None,
                 fps_hint: float = 10.0, name: str | None = None) -> None:
        if not url or "\n" in url:
            raise UsageError("stream URL must be a single non-empty line")
        self.url = url
        self.name = name or url.rsplit("/", 1)[-1] or url
        self.policy = policy or ReconnectPolicy()
        self.reconnects = 0
        self._wake = threading.Event()  # set by interrupt(): cuts a back-off wait short
        self._t0 = time.monotonic()
        self._index = 0
        self._stopped = False
        self._cap: cv2.VideoCapture | None = None
        self.fps = fps_hint
        self.size = (0, 0)
        self._open_with_retry(first=True)

    def _open_once(self) -> bool:
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(self.policy.open_timeout_s * 1000),
                  cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(self.policy.read_timeout_s * 1000)]
        cap = cv2.VideoCapture(self.url, cv2.CAP_FFMPEG, params)
        if not cap.isOpened():
            cap.release()
            return False
        self._cap = cap
        self.fps = _fps(cap, self.fps)
        w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if w > 0 and h > 0:
            self.size = (w, h)
        return True

    def _open_with_retry(self, first: bool = False) -> None:
        delay = self.policy.initial_s
        attempt = 0
        while not self._stopped:
            if self._open_once():
                if not first:
                    self.reconnects += 1
                    log.warning("%s: reconnected (reconnect #%d)", self.name, self.reconnects)
                return
            attempt += 1
            if self.policy.max_attempts is not None and attempt >= self.policy.max_attempts:
                raise StreamLost(f"{self.name}: cannot open {self.url} after {attempt} "
                                 "attempts")
            log.warning("%s: cannot open stream (attempt %d); retrying in %.1f s", self.name,
                        attempt, delay)
            self._wake.wait(delay)
            delay = min(self.policy.max_s, delay * 2)

    def read(self) -> Frame | None:
        """Next frame; reconnects (logged) when the stream stalls or drops. ``None`` only after
        :meth:`close`; raises :class:`StreamLost` when the reconnect budget is spent."""
        while not self._stopped:
            ok, raw = (self._cap.read() if self._cap is not None else (False, None))
            if ok and raw is not None and raw.ndim == 3:
                img = np.asarray(raw, dtype=np.uint8)
                self.size = (int(img.shape[1]), int(img.shape[0]))
                f = Frame(self._index, time.monotonic() - self._t0, img)
                self._index += 1
                return f
            log.warning("%s: stream stalled or dropped after frame %d; reconnecting",
                        self.name, self._index)
            if self._cap is not None:
                self._cap.release()
                self._cap = None
            self._open_with_retry()
        return None

    def interrupt(self) -> None:
        """Thread-safe: make the reading thread stop reconnecting and return ``None``."""
        self._stopped = True
        self._wake.set()

    def close(self) -> None:
        """Release the capture; call from the thread that reads."""
        self._stopped = True
        if self._cap is not None:
            self._cap.release()
            self._cap = None


@dataclass
class PoseTrack:
    """Camera poses over time (sorted by ``t``); :meth:`at` interpolates linearly (heading the
    short way round) and refuses to extrapolate more than ``max_gap_s``."""

    poses: list[Pose] = field(default_factory=list)
    max_gap_s: float = 1.0

    def add(self, pose: Pose) -> None:
        ts = [p.t for p in self.poses]
        self.poses.insert(bisect.bisect_right(ts, pose.t), pose)

    def at(self, t: float) -> Pose | None:
        if not self.poses:
            return None
        ts = [p.t for p in self.poses]
        i = bisect.bisect_left(ts, t)
        if i < len(ts) and ts[i] == t:
            return self.poses[i]
        if i == 0 or i == len(ts):
            near = self.poses[0] if i == 0 else self.poses[-1]
            return near if abs(near.t - t) <= self.max_gap_s else None
        a, b = self.poses[i - 1], self.poses[i]
        if b.t - a.t > 2 * self.max_gap_s:
            return None
        w = (t - a.t) / (b.t - a.t)
        dh = (b.heading_deg - a.heading_deg + 180.0) % 360.0 - 180.0
        return Pose(t=t, x=a.x + w * (b.x - a.x), y=a.y + w * (b.y - a.y),
                    height=a.height + w * (b.height - a.height),
                    heading_deg=(a.heading_deg + w * dh) % 360.0,
                    pitch_deg=a.pitch_deg + w * (b.pitch_deg - a.pitch_deg))


def parse_pose_line(line: str, lineno: int, origin: GeoOrigin | None) -> Pose:
    """One sidecar line: ``{"t": s, "x": m, "y": m | "lon": deg, "lat": deg, "height_m": m,
    "heading_deg": deg, "pitch_deg": deg}``. Map ``x, y`` win over ``lon, lat``; GPS needs the
    port map's ``origin``."""
    try:
        d = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UsageError(f"pose sidecar line {lineno}: not JSON ({exc.msg})") from None
    if not isinstance(d, dict):
        raise UsageError(f"pose sidecar line {lineno}: expected a JSON object")
    if "t" not in d or not isinstance(d["t"], int | float) or not math.isfinite(d["t"]):
        raise UsageError(f"pose sidecar line {lineno}: missing or invalid timestamp 't' "
                         "(seconds from the start of the video)")
    try:
        if "x" in d and "y" in d:
            x, y = float(d["x"]), float(d["y"])
        elif "lon" in d and "lat" in d:
            if origin is None:
                raise UsageError(f"pose sidecar line {lineno}: GPS positions need a port map "
                                 "with an origin")
            x, y = origin.to_map(float(d["lon"]), float(d["lat"]))
        else:
            raise UsageError(f"pose sidecar line {lineno}: needs x/y (map metres) or lon/lat")
        return Pose(t=float(d["t"]), x=x, y=y, height=float(d["height_m"]),
                    heading_deg=float(d["heading_deg"]), pitch_deg=float(d["pitch_deg"]))
    except KeyError as exc:
        raise UsageError(f"pose sidecar line {lineno}: missing {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise UsageError(f"pose sidecar line {lineno}: {exc}") from None


def load_sidecar(path: Path, origin: GeoOrigin | None = None,
                 max_gap_s: float = 1.0) -> PoseTrack:
    """Read a JSON-lines pose sidecar; ``UsageError`` naming the first bad line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read pose sidecar {path}: {exc.strerror or exc}") from None
    track = PoseTrack(max_gap_s=max_gap_s)
    for n, line in enumerate(lines, 1):
        if line.strip():
            track.add(parse_pose_line(line, n, origin))
    if not track.poses:
        raise UsageError(f"pose sidecar {path} has no poses")
    return track


class RobotSource:
    """Frames of a robot/drone camera (any :class:`FrameSource`) with the pose at each frame's
    time from a :class:`PoseTrack`. Frames with no pose within the track's gap are skipped and
    counted in ``frames_without_pose`` (logged once)."""

    def __init__(self, frames: FrameSource, poses: PoseTrack) -> None:
        self._frames = frames
        self.poses = poses
        self.name = frames.name
        self.fps = frames.fps
        self.size = frames.size
        self.frames_without_pose = 0

    @property
    def reconnects(self) -> int:
        """Reconnects of the underlying stream (0 for files)."""
        return int(getattr(self._frames, "reconnects", 0))

    def read(self) -> Frame | None:
        while True:
            f = self._frames.read()
            if f is None:
                return None
            f.pose = self.poses.at(f.t)
            if f.pose is not None:
                return f
            if self.frames_without_pose == 0:
                log.warning("%s: no pose near t=%.2f s; skipping frames without a pose",
                            self.name, f.t)
            self.frames_without_pose += 1

    def close(self) -> None:
        self._frames.close()
