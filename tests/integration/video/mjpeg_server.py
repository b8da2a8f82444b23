"""A tiny HTTP MJPEG camera (``multipart/x-mixed-replace``) that tests can drop and stall.

OpenCV's FFmpeg backend reads it like an IP camera's ``/video.mjpg``. ``drop()`` closes every
open connection (a network cut), ``stall(s)`` keeps connections open but sends nothing for
``s`` seconds (a frozen encoder), ``stop()``/``start()`` take the port down and up.
"""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MjpegCamera:
    def __init__(self, frames: list[np.ndarray], fps: float = 10.0) -> None:
        self.frames = [cv2.imencode(".jpg", f)[1].tobytes() for f in frames]
        self.fps = fps
        self.port = free_port()
        self.generation = 0  # bumped by drop(): handlers of older generations hang up
        self.stall_until = 0.0
        self.served = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/video.mjpg"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        cam = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                gen = cam.generation
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                i = 0
                try:
                    while gen == cam.generation:
                        if time.monotonic() < cam.stall_until:
                            time.sleep(0.05)
                            continue
                        jpg = cam.frames[i % len(cam.frames)]
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\n"
                                         + f"Content-Length: {len(jpg)}\r\n\r\n".encode()
                                         + jpg + b"\r\n")
                        cam.served += 1
                        i += 1
                        time.sleep(1.0 / cam.fps)
                except OSError:
                    pass  # the client went away

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def start(self) -> MjpegCamera:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def drop(self) -> None:
        self.generation += 1

    def stall(self, seconds: float) -> None:
        self.stall_until = time.monotonic() + seconds

    def stop(self) -> None:
        self.drop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
