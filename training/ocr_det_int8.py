"""INT8 version of the PP-OCR text detector (``ppocr_det``) for CPU serving.

The float detector (PP-OCRv6 det small, from the ``rapidocr`` wheel) costs ~130 ms for a
640x352 input on 2 cores - most of a gate passage's budget. Static INT8 quantization (QDQ,
per-channel int8 weights, uint8 activations, MinMax calibration) lets ONNX Runtime run the
convolutions with VNNI/AMX int8 kernels: ~2.5-3x faster on the same cores.

Calibration input (never the evaluation sets of ``../shared/realdata/plates_cn`` or
``containers``): generated container doors and Mongolian plate scenes
(:mod:`datasets.gate_scenes`) plus frames of the real surveillance clips in
``../shared/realdata/video`` (natural-image statistics), each prepared exactly as the gate
prepares detector input (:func:`vision.ocr_det.det_preprocess`, longest side 640 or 960).

Run: ``kouan models quantize-det --version 2`` (writes
``serving/model_repository/ppocr_det/<version>/model.onnx`` and ``card.json``); progress
is shown with tqdm. The accuracy of the gate with it is measured by ``bench/bench_gate.py``.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from datasets.gate_scenes import random_container_door, random_mongolian_scene
from vision.ocr_det import det_preprocess

INPUT = "x"
OPSET = 17  # per-channel DequantizeLinear (axis attribute) needs opset >= 13; the source is 11
VIDEO_FILES = ("intel_one-by-one-person-detection.mp4", "bgslibrary_video02.avi")
SIDES = (640, 960)


def video_frames(video_dir: Path, per_file: int) -> list[npt.NDArray[np.uint8]]:
    """``per_file`` frames spread evenly over each clip of :data:`VIDEO_FILES` (BGR)."""
    frames: list[npt.NDArray[np.uint8]] = []
    for name in VIDEO_FILES:
        cap = cv2.VideoCapture(str(video_dir / name))
        if not cap.isOpened():
            raise FileNotFoundError(f"cannot open video {video_dir / name}")
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        for idx in np.linspace(0, max(0, count - 1), per_file).astype(int):
            cap.set(cv2.CAP_PROP_POS_FRAMES, int(idx))
            ok, frame = cap.read()
            if ok:
                frames.append(np.asarray(frame, np.uint8))
        cap.release()
    return frames


def calibration_images(video_dir: Path, n_doors: int, n_plates: int, per_video: int,
                       seed: int) -> list[npt.NDArray[np.uint8]]:
    """Generated doors and plate scenes plus real video frames (uint8 BGR)."""
    rng = np.random.default_rng(seed)
    images = [random_container_door(rng) for _ in range(n_doors)]
    images += [random_mongolian_scene(rng) for _ in range(n_plates)]
    return images + video_frames(video_dir, per_video)


class _Reader:
    """Duck-typed ``onnxruntime.quantization.CalibrationDataReader``: one detector input per
    call, alternating the longest side over :data:`SIDES`."""

    def __init__(self, images: list[npt.NDArray[np.uint8]]) -> None:
        self._feeds: Iterator[dict[str, npt.NDArray[np.float32]]] = (
            {INPUT: det_preprocess(img, max_side=SIDES[i % len(SIDES)]).tensor}
            for i, img in enumerate(tqdm(images, desc="calibrate", unit="img")))

    def get_next(self) -> dict[str, npt.NDArray[np.float32]] | None:
        return next(self._feeds, None)


def quantize(source: Path, target: Path, images: list[npt.NDArray[np.uint8]]) -> None:
    """Write the INT8 QDQ model of the float ``source`` to ``target``."""
    import onnx
    from onnx import version_converter
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory() as tmp:
        upgraded, prepared = Path(tmp) / "opset.onnx", Path(tmp) / "prepared.onnx"
        onnx.save(version_converter.convert_version(onnx.load(str(source)), OPSET),
                  str(upgraded))
        quant_pre_process(str(upgraded), str(prepared), skip_symbolic_shape=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        quantize_static(str(prepared), str(target), _Reader(images),
                        quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)


def agreement(source: Path, target: Path, images: list[npt.NDArray[np.uint8]]
              ) -> dict[str, float]:
    """How closely the INT8 map follows the float one on ``images``: mean/max absolute
    probability difference and IoU of the text masks (probability > 0.3, the DB threshold)."""
    import onnxruntime as ort

    sessions = [ort.InferenceSession(str(p), providers=["CPUExecutionProvider"])
                for p in (source, target)]
    diffs, maxes, ious = [], [], []
    for img in images:
        x = det_preprocess(img, max_side=640).tensor
        a, b = (np.asarray(s.run(None, {INPUT: x})[0], np.float32) for s in sessions)
        diffs.append(float(np.abs(a - b).mean()))
        maxes.append(float(np.abs(a - b).max()))
        ma, mb = a > 0.3, b > 0.3
        union = int((ma | mb).sum())
        ious.append(float((ma & mb).sum()) / union if union else 1.0)
    return {"mean_abs_diff": round(float(np.mean(diffs)), 5),
            "max_abs_diff": round(float(np.max(maxes)), 4),
            "text_mask_iou_mean": round(float(np.mean(ious)), 4),
            "text_mask_iou_min": round(float(np.min(ious)), 4)}


def build_card(source: Path, target: Path, version: int, command: str,
               calibration: dict[str, Any], check: dict[str, float]) -> dict[str, Any]:
    """The facts a reviewer needs about the INT8 model (written as ``card.json``)."""
    return {
        "model": "ppocr_det", "version": version,
        "created": datetime.now(UTC).isoformat(timespec="seconds"), "command": command,
        "source": {"file": source.name, "sha256": _sha256(source)},
        "method": "onnxruntime quantize_static, QDQ, per-channel int8 weights, uint8 "
                  f"activations, MinMax calibration, opset {OPSET}",
        "calibration": {**calibration, "video_files": list(VIDEO_FILES),
                        "detector_sides": list(SIDES)},
        "agreement_with_float_on_8_held_out_generated_doors": check,
        "bytes": target.stat().st_size, "sha256": _sha256(target),
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
