"""Measuring the liveness cues (not part of the serving path).

No real presentation-attack data is available offline, so attacks are *simulated* from the
real bona fide faces in ``realdata/faces``:

* print: resolution loss, an amplitude-modulated CMY halftone screen (period 2.5-5 px, the
  usual 15/75/0 degree angles), paper contrast/white point, re-capture blur, noise, JPEG;
* screen replay: the image shown on an RGB-stripe pixel grid with a black matrix, re-captured
  at a non-integer scale (aliasing -> moire), display gamma, blur, noise, JPEG;
* moved photo (motion cue): one still warped by smooth random homographies (a hand-held print
  tilted and moved), landmarks re-detected on every frame; bona fide tracks come from real
  people in ``short_hamilton_clip.mp4``.

Thresholds are chosen on one half of the identities and the error rates are measured on the
other half. Simulated attacks are easier than real ones (they are made to contain the very
artefacts the cues look for); the numbers are an upper bound on real-world performance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from pipelines.faces.analyze import FaceAnalyzer
from pipelines.faces.calibrate import single_identity_files
from vision.faces.liveness import face_patch, motion_cue, spectral_cues

Rgb = npt.NDArray[np.uint8]


def _jpeg(rgb: Rgb, quality: int) -> Rgb:
    ok, buf = cv2.imencode(".jpg", rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encode failed")
    return np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1])


def _finish(x: npt.NDArray[np.float64], rng: np.random.Generator, blur: float) -> Rgb:
    x = np.asarray(cv2.GaussianBlur(x, (0, 0), blur), dtype=np.float64)
    x = x + rng.normal(0, 2.0, x.shape)
    return _jpeg(np.clip(x, 0, 255).astype(np.uint8), int(rng.integers(80, 95)))


def simulate_print(rgb: Rgb, rng: np.random.Generator) -> Rgb:
    h, w = rgb.shape[:2]
    lo = float(rng.uniform(0.5, 0.8))
    x = cv2.resize(cv2.resize(rgb, (max(8, int(w * lo)), max(8, int(h * lo))),
                              interpolation=cv2.INTER_AREA), (w, h),
                   interpolation=cv2.INTER_LINEAR).astype(np.float64)
    period = float(rng.uniform(2.5, 5.0))
    amp = float(rng.uniform(0.15, 0.35))
    yy, xx = np.mgrid[:h, :w].astype(np.float64)
    cmy = 255.0 - x
    for c, deg in enumerate((15.0, 75.0, 0.0)):
        t = math.radians(deg + float(rng.uniform(-3, 3)))
        u = (xx * math.cos(t) + yy * math.sin(t)) * 2 * math.pi / period
        v = (-xx * math.sin(t) + yy * math.cos(t)) * 2 * math.pi / period
        cmy[:, :, c] *= 1.0 + amp * np.cos(u) * np.cos(v)
    x = 255.0 - cmy
    x = 20.0 + x * float(rng.uniform(0.75, 0.9)) * np.array([1.0, 0.98, 0.93])  # paper
    return _finish(x, rng, float(rng.uniform(0.4, 0.9)))


def simulate_screen(rgb: Rgb, rng: np.random.Generator) -> Rgb:
    h, w = rgb.shape[:2]
    sub = 3
    big = np.repeat(np.repeat(rgb.astype(np.float64), sub, axis=0), sub, axis=1)
    mask = np.zeros((sub, sub, 3))
    for c in range(3):
        mask[:sub - 1, c, c] = 1.0  # one stripe per colour, a dark row (black matrix)
    big *= np.tile(mask, (h, w, 1)) * 2.4
    scale = float(rng.uniform(0.8, 1.3))
    x = cv2.resize(big, (max(8, int(w * scale)), max(8, int(h * scale))),
                   interpolation=cv2.INTER_LINEAR)
    x = cv2.resize(x, (w, h), interpolation=cv2.INTER_LINEAR)
    gamma = float(rng.uniform(0.8, 1.2))
    x = 255.0 * (np.clip(x, 0, 255) / 255.0) ** gamma
    return _finish(x, rng, float(rng.uniform(0.3, 0.7)))


@dataclass(frozen=True)
class CueSample:
    name: str
    kind: str  # "bona_fide" | "print" | "screen"
    half: int  # 0 / 1: identity split
    peak_excess: float
    hf_ratio: float


def texture_samples(analyzer: FaceAnalyzer, root: Path, seed: int = 0,
                    limit: int | None = None, max_side: int = 1024) -> list[CueSample]:
    """Spectral cues for every single-identity real face and its two simulated recaptures.

    Images are first reduced to ``max_side`` (a gate camera's resolution). Halves alternate
    over each identity's images (the 17 identities are too unequal in size to split by
    identity), so both halves hold every identity."""
    rng = np.random.default_rng(seed)
    out: list[CueSample] = []
    seen: dict[str, int] = {}
    for name, identity in list(single_identity_files(root).items())[:limit]:
        rgb = analyzer.decode((root / name).read_bytes(), name)
        shrink = min(1.0, max_side / max(rgb.shape[:2]))
        if shrink < 1.0:
            rgb = np.ascontiguousarray(cv2.resize(rgb, None, fx=shrink, fy=shrink,
                                                  interpolation=cv2.INTER_AREA))
        half = seen.get(identity, 0) % 2
        seen[identity] = seen.get(identity, 0) + 1
        faces = analyzer.detect(rgb)
        if not len(faces):
            continue
        box = tuple(float(v) for v in faces.boxes[0])
        for kind, img in (("bona_fide", rgb), ("print", simulate_print(rgb, rng)),
                          ("screen", simulate_screen(rgb, rng))):
            grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
            cues = spectral_cues(face_patch(np.asarray(grey, dtype=np.uint8), box))  # type: ignore[arg-type]
            out.append(CueSample(name, kind, half, cues.peak_excess, cues.hf_ratio))
    return out


def choose_texture_thresholds(samples: list[CueSample], half: int,
                              max_bpcer: float = 0.05) -> tuple[float, float]:
    """On one half: the loosest thresholds that reject at most ``max_bpcer`` of bona fide
    faces per cue (peak: upper quantile; hf: lower quantile)."""
    bona = [s for s in samples if s.half == half and s.kind == "bona_fide"]
    peak = float(np.quantile([s.peak_excess for s in bona], 1 - max_bpcer / 2))
    hf = float(np.quantile([s.hf_ratio for s in bona], max_bpcer / 2))
    return peak, hf


def texture_error_rates(samples: list[CueSample], half: int, peak: float,
                        hf: float) -> dict[str, Any]:
    """ISO 30107-3 style rates on one half: BPCER (bona fide rejected) and APCER per attack."""
    def rejected(s: CueSample) -> bool:
        return s.peak_excess > peak or s.hf_ratio < hf

    test = [s for s in samples if s.half == half]
    out: dict[str, Any] = {}
    for kind in ("bona_fide", "print", "screen"):
        group = [s for s in test if s.kind == kind]
        rate = float(np.mean([rejected(s) for s in group])) if group else float("nan")
        key = "bpcer" if kind == "bona_fide" else f"apcer_{kind}"
        out[key] = round(1 - rate if kind != "bona_fide" else rate, 4)
        out[f"n_{kind}"] = len(group)
    return out


def clip_tracks(analyzer: FaceAnalyzer, video: Path, frames: int = 40,
                window: int = 8) -> list[npt.NDArray[np.float32]]:
    """Bona fide landmark tracks: faces in ``frames`` consecutive video frames, linked by
    nearest box centre, cut into ``window``-frame tracks."""
    cap = cv2.VideoCapture(str(video))
    marks: list[list[tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]]] = []
    try:
        for _ in range(frames):
            ok, bgr = cap.read()
            if not ok:
                break
            dets = analyzer.detect(np.ascontiguousarray(bgr[:, :, ::-1]))
            marks.append([(dets.boxes[i], dets.landmarks[i]) for i in range(len(dets))])
    finally:
        cap.release()
    tracks: list[npt.NDArray[np.float32]] = []
    for start in range(0, len(marks) - window + 1, window):
        for box0, lm0 in marks[start]:
            track, centre = [lm0], (box0[:2] + box0[2:]) / 2
            for frame in marks[start + 1:start + window]:
                if not frame:
                    break
                dist = [float(np.hypot(*((b[:2] + b[2:]) / 2 - centre))) for b, _ in frame]
                j = int(np.argmin(dist))
                if dist[j] > 0.5 * float(box0[2] - box0[0]):
                    break
                track.append(frame[j][1])
                centre = (frame[j][0][:2] + frame[j][0][2:]) / 2
            if len(track) == window:
                tracks.append(np.stack(track))
    return tracks


def moved_photo_tracks(analyzer: FaceAnalyzer, rgb: Rgb, rng: np.random.Generator,
                       n_tracks: int = 4, window: int = 8,
                       face_px: float = 60.0) -> list[npt.NDArray[np.float32]]:
    """Attack tracks: a still (scaled so its face is ~``face_px`` wide, like the clip's) warped
    by a smooth random homography path; landmarks re-detected per frame."""
    faces = analyzer.detect(rgb)
    if not len(faces):
        return []
    side = float(faces.boxes[0][2] - faces.boxes[0][0])
    s = face_px / side
    small = cv2.resize(rgb, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    h, w = small.shape[:2]
    tracks = []
    for _ in range(n_tracks):
        end = rng.normal(0, 1, 8) * np.array([0.06, 0.06, 12, 0.06, 0.06, 12, 2e-4, 2e-4])
        track = []
        for k in range(window):
            a = k / (window - 1)
            p = end * a
            hmat = np.array([[1 + p[0], p[1], p[2]], [p[3], 1 + p[4], p[5]], [p[6], p[7], 1.0]])
            frame = cv2.warpPerspective(small, hmat, (w, h), borderMode=cv2.BORDER_REFLECT)
            dets = analyzer.detect(_jpeg(np.asarray(frame, dtype=np.uint8), 85))
            if not len(dets):
                break
            track.append(dets.landmarks[0])
        if len(track) == window:
            tracks.append(np.stack(track))
    return tracks


def motion_rates(bona: list[npt.NDArray[np.float32]], attack: list[npt.NDArray[np.float32]],
                 min_motion: float, min_parallax: float) -> dict[str, Any]:
    def classify(track: npt.NDArray[np.float32]) -> str:
        cue = motion_cue(track)
        if cue.motion < min_motion:
            return "inconclusive"
        return "live" if cue.parallax >= min_parallax else "attack"

    b = [classify(t) for t in bona]
    a = [classify(t) for t in attack]
    return {"n_bona_fide": len(b), "n_attack": len(a),
            "bona_fide_inconclusive": b.count("inconclusive"),
            "attack_inconclusive": a.count("inconclusive"),
            "bpcer": round(b.count("attack") / max(1, len(b) - b.count("inconclusive")), 4),
            "apcer": round(a.count("live") / max(1, len(a) - a.count("inconclusive")), 4),
            "parallax_bona_fide": [round(motion_cue(t).parallax, 4) for t in bona],
            "parallax_attack": [round(motion_cue(t).parallax, 4) for t in attack]}
