"""The X-ray baggage threat detector (``xray_atr``) in the Triton model repository.

Model (exported by ``kouan export RUN_DIR``, see :mod:`training.xray.export`): input
``images`` uint8 ``[N, 3, S, S]``, outputs ``heatmap`` float32 ``[N, C, S/4, S/4]`` and
``ltrb`` float32 ``[N, 4, S/4, S/4]``; pre/post-processing in :mod:`vision.atr`. Each version
folder holds ``model.onnx``, ``card.json`` (classes, input size, metrics, operating
thresholds) and ``MODEL_CARD.md``. A client reads the card from the repository it was
deployed from (:func:`load_card`), so it knows the classes and the input size.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from serving.client import InferenceClient
from serving.model_config import DynamicBatching, ModelSpec, TensorSpec
from serving.repository import default_repository, versions, write_config

MODEL_NAME = "xray_atr"
INPUT = "images"
OUTPUTS = ("heatmap", "ltrb")
STRIDE = 4
MAX_BATCH = 16


def spec(size: int, num_classes: int, name: str = MODEL_NAME) -> ModelSpec:
    """Triton config of the detector (two ORT threads: the CI box has two cores)."""
    g = size // STRIDE
    return ModelSpec(
        name=name,
        inputs=(TensorSpec(INPUT, "UINT8", (3, size, size)),),
        outputs=(TensorSpec(OUTPUTS[0], "FP32", (num_classes, g, g)),
                 TensorSpec(OUTPUTS[1], "FP32", (4, g, g))),
        max_batch_size=MAX_BATCH,
        dynamic_batching=DynamicBatching(max_queue_delay_us=2000),
        intra_op_threads=2,
    )


def write_model_config(repo: Path, size: int, num_classes: int, name: str = MODEL_NAME) -> Path:
    return write_config(repo, spec(size, num_classes, name))


def next_version(repo: Path, name: str = MODEL_NAME) -> int:
    model_dir = repo / name
    found = versions(model_dir) if model_dir.is_dir() else []
    return (found[-1] + 1) if found else 1


@dataclass(frozen=True)
class AtrCard:
    """What a client needs from the model card."""

    name: str
    version: int
    classes: tuple[str, ...]
    size: int
    thresholds: dict[str, Any]
    raw: dict[str, Any]

    @property
    def image_threshold_10pct_fa(self) -> float:
        """Image threat score giving ~10 % false alarms on synthetic benign bags."""
        at = (self.thresholds or {}).get("image_threat_score_at_fa", {})
        return float(at.get("0.1", 0.5))

    @property
    def box_threshold(self) -> float:
        return float((self.thresholds or {}).get("box_display", 0.3))


def load_card(repo: Path | None = None, name: str = MODEL_NAME,
              version: int | None = None) -> AtrCard:
    """The card of ``version`` (default: the newest, which Triton serves)."""
    model_dir = (repo or default_repository()) / name
    found = versions(model_dir) if model_dir.is_dir() else []
    if not found:
        raise FileNotFoundError(f"no versions of {name} under {model_dir} (run kouan export)")
    v = version if version is not None else found[-1]
    path = model_dir / str(v) / "card.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing")
    raw = json.loads(path.read_text(encoding="utf-8"))
    return AtrCard(name, v, tuple(raw["classes"]), int(raw["input"]["shape"][2]),
                   raw.get("operating_thresholds") or {}, raw)


def infer(client: InferenceClient, batch: npt.NDArray[np.uint8], name: str = MODEL_NAME
          ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """(heatmap, ltrb) for a uint8 batch ``[N, 3, S, S]``, split into ``MAX_BATCH`` chunks."""
    if batch.dtype != np.uint8 or batch.ndim != 4 or batch.shape[1] != 3:
        raise ValueError(f"expected uint8 [N, 3, S, S], got {batch.dtype} {batch.shape}")
    hms, boxes = [], []
    for i in range(0, batch.shape[0], MAX_BATCH):
        out = client.infer(name, {INPUT: batch[i:i + MAX_BATCH]}, list(OUTPUTS))
        hms.append(np.asarray(out[OUTPUTS[0]], dtype=np.float32))
        boxes.append(np.asarray(out[OUTPUTS[1]], dtype=np.float32))
    return np.concatenate(hms), np.concatenate(boxes)
