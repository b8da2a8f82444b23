"""Tiny synthetic scenes for the video unit tests (deterministic, low resolution)."""

from __future__ import annotations

import cv2
import numpy as np

from vision.video.types import Track


def texture(h: int = 120, w: int = 160, seed: int = 0) -> np.ndarray:
    """Grey-ish BGR ``uint8 [h, w, 3]`` background with blurred noise and a few rectangles
    (enough corners for optical flow, smooth enough for a background model)."""
    rng = np.random.default_rng(seed)
    img = rng.integers(60, 200, (h // 4, w // 4), dtype=np.uint8)
    img = cv2.resize(img, (w, h), interpolation=cv2.INTER_CUBIC)
    img = cv2.GaussianBlur(img, (3, 3), 0)
    for _ in range(12):
        x, y = int(rng.integers(0, w - 10)), int(rng.integers(0, h - 10))
        cv2.rectangle(img, (x, y), (x + int(rng.integers(4, 12)), y + int(rng.integers(4, 12))),
                      int(rng.integers(0, 255)), -1)
    return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)


def with_box(bg: np.ndarray, box: tuple[int, int, int, int], value: int = 15) -> np.ndarray:
    out = bg.copy()
    x1, y1, x2, y2 = box
    out[y1:y2, x1:x2] = value
    return out


def track(tid: int, box: tuple[float, float, float, float], label: str = "person") -> Track:
    return Track(track_id=tid, box=box, score=0.9, label=label, hits=5, first_seen=0.0,
                 matched=True)


def moving_box_frames(n: int = 40, size: tuple[int, int] = (160, 120), seed: int = 0,
                      speed: float = 4.0, y: int = 40) -> list[np.ndarray]:
    """``n`` frames of a textured background with a dark 14x30 box walking left to right."""
    w, h = size
    bg = texture(h, w, seed)
    frames = []
    for i in range(n):
        x = int(5 + speed * i)
        frames.append(with_box(bg, (x, y, x + 14, y + 30)) if i >= 8 else bg.copy())
    return frames


def write_clip(path, frames: list[np.ndarray], fps: float = 10.0,  # type: ignore[no-untyped-def]
               codec: str = "MJPG") -> None:
    h, w = frames[0].shape[:2]
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*codec), fps, (w, h))
    assert vw.isOpened()
    for f in frames:
        vw.write(f)
    vw.release()
