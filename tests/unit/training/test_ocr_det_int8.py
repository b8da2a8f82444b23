"""INT8 text detector: the committed version matches its card, and quantizing reproduces a
detector that still finds the text of a generated container door."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from datasets.gate_scenes import random_code, random_container_door
from kouan.realdata import realdata_dir
from serving.gate_models import DET_MODEL, DET_SHA256, install_ppocr_det
from serving.repository import default_repository, sha256_file, versions
from training.ocr_det_int8 import agreement, calibration_images, quantize, video_frames
from vision.containers.iso6346 import is_valid


def test_committed_int8_detector_matches_its_card() -> None:
    folder = default_repository() / DET_MODEL
    newest = folder / str(versions(folder)[-1])
    card = json.loads((newest / "card.json").read_text(encoding="utf-8"))
    assert card["version"] == versions(folder)[-1] >= 2  # Triton serves the INT8 model
    assert card["sha256"] == sha256_file(newest / "model.onnx")
    assert card["source"]["sha256"] == DET_SHA256
    assert card["agreement_with_float_on_8_held_out_generated_doors"][
        "text_mask_iou_mean"] > 0.9


def test_generated_doors_carry_valid_codes_and_differ() -> None:
    rng = np.random.default_rng(3)
    assert all(is_valid(random_code(rng)) for _ in range(50))
    a, b = random_container_door(np.random.default_rng(1)), random_container_door(
        np.random.default_rng(2))
    assert a.shape == b.shape == (540, 960, 3) and a.dtype == np.uint8
    assert np.abs(a.astype(int) - b.astype(int)).mean() > 5


def test_quantize_keeps_the_text_map(tmp_path: Path) -> None:
    source = install_ppocr_det()
    images = calibration_images(realdata_dir() / "video", n_doors=3, n_plates=1, per_video=1,
                                seed=0)
    assert len(images) == 3 + 1 + 2
    target = tmp_path / "int8.onnx"
    quantize(source, target, images)
    assert target.stat().st_size < source.stat().st_size / 2
    check = agreement(source, target, [random_container_door(np.random.default_rng(9))])
    assert check["text_mask_iou_mean"] > 0.8


def test_missing_video_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="cannot open video"):
        video_frames(tmp_path, per_file=2)
