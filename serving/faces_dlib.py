"""dlib face models that ship in the ``face-recognition-models`` wheel, run with ``dlib-bin``.

* :class:`DlibFaceDetector`: HOG + linear SVM frontal-face detector (built into dlib) followed by
  the 5-point shape predictor (``shape_predictor_5_face_landmarks.dat``).
* :class:`DlibFaceEmbedder`: the ResNet-29 metric-learning network
  (``dlib_face_recognition_resnet_model_v1.dat``) on aligned 150x150 RGB chips -> float32 [128].

Both are used *inside* the Triton python-backend models (``serving/model_repository/
face_detector`` and ``face_embedder``) and, in-process, by tests and tools that compare against
the served models. The model files are located with ``importlib.util.find_spec`` because
``import face_recognition_models`` fails with setuptools >= 81 (it imports ``pkg_resources``;
STACK_NOTES pitfall 9). Imports only numpy and dlib, so the Triton stub needs nothing else.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from typing import Any

import numpy as np
import numpy.typing as npt

PACKAGE = "face_recognition_models"
SHAPE_PREDICTOR_5 = "shape_predictor_5_face_landmarks.dat"
RESNET_EMBEDDER = "dlib_face_recognition_resnet_model_v1.dat"
CHIP_SIZE = 150
EMBEDDING_DIM = 128
# face-recognition-models 0.3.0; a different file means a different model: refuse to serve it.
SHA256 = {
    SHAPE_PREDICTOR_5: "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
    RESNET_EMBEDDER: "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
}


def model_file(name: str, verify: bool = True) -> str:
    """Absolute path of ``name`` inside the installed face-recognition-models package; with
    ``verify`` its SHA-256 must be the pinned one (``ValueError`` otherwise)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {PACKAGE!r} is not installed "
                                "(pip install face-recognition-models==0.3.0)")
    path = os.path.join(next(iter(spec.submodule_search_locations)), "models", name)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{PACKAGE} has no model file {name} at {path}")
    if verify and name in SHA256:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != SHA256[name]:
            raise ValueError(f"{path}: sha256 {digest.hexdigest()} is not the pinned "
                             f"{SHA256[name]} (face-recognition-models 0.3.0)")
    return path


def _dlib() -> Any:
    import dlib  # deferred: importing dlib costs ~0.3 s and is only needed to run the models

    return dlib


class DlibFaceDetector:
    """Faces and 5-point landmarks in one RGB ``uint8 [H, W, 3]`` (or grey ``[H, W]``) image.

    :meth:`detect` returns ``(boxes float32 [N, 4] xyxy, scores float32 [N], landmarks float32
    [N, 5, 2])`` in the input's pixel frame, highest score first. ``upsample`` doubles the image
    that many times first (the HOG window is 80x80 px, so 0 finds faces >= ~80 px, 1 >= ~40 px,
    at ~4x the cost). ``min_score`` is the SVM margin threshold (dlib's default is 0).
    """

    def __init__(self) -> None:
        dlib = _dlib()
        self._detector = dlib.get_frontal_face_detector()
        self._predictor = dlib.shape_predictor(model_file(SHAPE_PREDICTOR_5))
        self._lock = threading.Lock()  # dlib objects are not documented as thread-safe

    def detect(
        self, image: npt.NDArray[np.uint8], upsample: int = 0, min_score: float = 0.0
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        if image.dtype != np.uint8 or image.ndim not in (2, 3) or (
                image.ndim == 3 and image.shape[2] != 3):
            raise ValueError(f"image must be uint8 [H, W, 3] or [H, W], got {image.dtype} "
                             f"{image.shape}")
        if not 0 <= upsample <= 2:
            raise ValueError(f"upsample must be 0, 1 or 2, got {upsample}")
        img = np.ascontiguousarray(image)
        with self._lock:
            rects, scores, _ = self._detector.run(img, upsample, min_score)
            shapes = [self._predictor(img, r) for r in rects]
        n = len(rects)
        boxes = np.array([[r.left(), r.top(), r.right() + 1, r.bottom() + 1] for r in rects],
                         dtype=np.float32).reshape(n, 4)
        marks = np.array([[[p.x, p.y] for p in s.parts()] for s in shapes],
                         dtype=np.float32).reshape(n, 5, 2)
        sc = np.asarray(scores, dtype=np.float32).reshape(n)
        order = np.argsort(-sc, kind="stable")
        return boxes[order], sc[order], marks[order]


class DlibFaceEmbedder:
    """Aligned chips RGB ``uint8 [N, 150, 150, 3]`` -> embeddings float32 ``[N, 128]``."""

    def __init__(self) -> None:
        self._net = _dlib().face_recognition_model_v1(model_file(RESNET_EMBEDDER))
        self._lock = threading.Lock()

    def embed(self, chips: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        if chips.dtype != np.uint8 or chips.ndim != 4 or chips.shape[1:] != (
                CHIP_SIZE, CHIP_SIZE, 3):
            raise ValueError(f"chips must be uint8 [N, {CHIP_SIZE}, {CHIP_SIZE}, 3], got "
                             f"{chips.dtype} {chips.shape}")
        if len(chips) == 0:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        batch = [np.ascontiguousarray(c) for c in chips]
        with self._lock:
            vectors = self._net.compute_face_descriptor(batch)
        return np.asarray([np.asarray(v) for v in vectors], dtype=np.float32).reshape(
            len(chips), EMBEDDING_DIM)
