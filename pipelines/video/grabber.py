"""Back-pressure for live streams: a reader thread that never blocks on the analysis.

A camera does not wait for us. :class:`FrameGrabber` reads frames on its own thread into a
bounded buffer; when the analysis falls behind, the *oldest* buffered frame is dropped (and
counted) so the analysis always works on recent frames and memory stays bounded. Stream errors
(reconnect budget spent) end the grabber; the error is kept for the owner to report, so a bad
stream never takes its process down.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

from pipelines.video.sources import Frame, FrameSource, StreamLost

log = logging.getLogger(__name__)


@dataclass
class GrabberStats:
    read: int = 0
    dropped: int = 0
    delivered: int = 0


class FrameGrabber:
    """Start with :meth:`start`; :meth:`get` returns the oldest buffered frame or waits up to
    ``timeout`` seconds; ``None`` when nothing came (check :attr:`finished`). ``block=True``
    (recordings analysed offline) makes the reader wait for room instead of dropping."""

    def __init__(self, source: FrameSource, capacity: int = 2, block: bool = False) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self.source = source
        self.capacity = capacity
        self.block = block  # offline recordings: wait for room instead of dropping
        self.stats = GrabberStats()
        self.error: Exception | None = None
        self._buf: deque[Frame] = deque()
        self._cv = threading.Condition()
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"grab-{source.name}",
                                        daemon=True)

    def start(self) -> FrameGrabber:
        self._thread.start()
        return self

    @property
    def finished(self) -> bool:
        """The source ended (or failed) and every buffered frame has been taken."""
        with self._cv:
            return self._done.is_set() and not self._buf

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                f = self.source.read()
                if f is None:
                    break
                with self._cv:
                    self.stats.read += 1
                    while self.block and len(self._buf) >= self.capacity and not (
                            self._stop.is_set()):
                        self._cv.wait(0.1)
                    if len(self._buf) >= self.capacity:
                        self._buf.popleft()  # drop the oldest: never block the camera side
                        self.stats.dropped += 1
                    self._buf.append(f)
                    self._cv.notify()
        except Exception as exc:  # reported to the owner through .error, not re-raised
            self.error = exc
            log.error("%s: stream ended with an error: %s", self.source.name, exc)
        finally:
            self.source.close()  # on this thread: never release a capture mid-read
            self._done.set()
            with self._cv:
                self._cv.notify_all()

    def get(self, timeout: float = 1.0) -> Frame | None:
        with self._cv:
            if not self._buf and not self._done.is_set():
                self._cv.wait(timeout)
            if not self._buf:
                return None
            self.stats.delivered += 1
            f = self._buf.popleft()
            self._cv.notify_all()  # room for a blocked reader
            return f

    def stop(self, join_s: float = 10.0) -> None:
        """Ask the reader to stop (a pending read ends within the stream's read timeout)."""
        self._stop.set()
        interrupt = getattr(self.source, "interrupt", None)
        if callable(interrupt):
            interrupt()
        self._thread.join(join_s)


class LiveSource:
    """A :class:`FrameSource` view of a running grabber: the frames the analysis gets to see.

    Waits up to ``first_timeout_s`` for the first frame (to learn the frame size); ends when the
    stream ends or ``max_seconds`` of wall time have passed. ``close`` stops the grabber.
    """

    def __init__(self, grabber: FrameGrabber, first_timeout_s: float = 10.0,
                 max_seconds: float | None = None) -> None:
        self.grabber = grabber
        self.name = grabber.source.name
        self.fps = grabber.source.fps
        self._deadline = time.monotonic() + max_seconds if max_seconds else None
        first = grabber.get(timeout=first_timeout_s)
        if first is None:
            grabber.stop()
            if grabber.error is not None:
                raise grabber.error
            raise StreamLost(f"{self.name}: no frame within {first_timeout_s:.0f} s")
        self._first: Frame | None = first
        self.size = (int(first.image.shape[1]), int(first.image.shape[0]))

    def read(self) -> Frame | None:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        while self._deadline is None or time.monotonic() < self._deadline:
            f = self.grabber.get(timeout=0.5)
            if f is not None:
                return f
            if self.grabber.finished:
                return None
        return None

    def close(self) -> None:
        self.grabber.stop()
