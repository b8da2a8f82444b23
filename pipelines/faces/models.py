"""The seam to the face models: :class:`FaceModels` and its two implementations.

* :class:`TritonFaceModels`: the served models (``face_detector``, ``face_embedder``) through any
  :class:`serving.client.InferenceClient` (embedded Triton or a cluster) -- the production path.
* :class:`LocalFaceModels`: the same dlib code in this process (:mod:`serving.faces_dlib`), for
  offline tools (threshold calibration) and unit tests; same numbers, no server.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from serving.client import InferenceClient
from vision.faces.types import FaceDetections

DETECTOR_MODEL = "face_detector"
EMBEDDER_MODEL = "face_embedder"
EMBEDDER_MAX_BATCH = 32  # config.pbtxt max_batch_size of face_embedder


class FaceModels(Protocol):
    """Detection + landmarks on one image, embeddings for aligned chips."""

    name: str

    def detect(self, image: npt.NDArray[np.uint8], upsample: int) -> FaceDetections:
        """Faces in RGB uint8 ``[H, W, 3]``, in its pixel frame, highest score first."""
        ...

    def embed(self, chips: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """RGB uint8 ``[N, 150, 150, 3]`` chips -> float32 ``[N, 128]``."""
        ...


class TritonFaceModels:
    """:class:`FaceModels` over an inference server."""

    name = "triton"

    def __init__(self, client: InferenceClient) -> None:
        self.client = client

    def detect(self, image: npt.NDArray[np.uint8], upsample: int) -> FaceDetections:
        out = self.client.infer(
            DETECTOR_MODEL,
            {"image": np.ascontiguousarray(image, dtype=np.uint8),
             "upsample": np.array([upsample], dtype=np.int32)},
            ["boxes", "scores", "landmarks"],
        )
        n = out["scores"].reshape(-1).shape[0]
        return FaceDetections(
            out["boxes"].astype(np.float32).reshape(n, 4),
            out["scores"].astype(np.float32).reshape(n),
            out["landmarks"].astype(np.float32).reshape(n, 5, 2),
        )

    def embed(self, chips: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        if len(chips) == 0:
            return np.zeros((0, 128), dtype=np.float32)
        parts = []
        for start in range(0, len(chips), EMBEDDER_MAX_BATCH):
            batch = np.ascontiguousarray(chips[start:start + EMBEDDER_MAX_BATCH])
            parts.append(self.client.infer(EMBEDDER_MODEL, {"chips": batch},
                                           ["embeddings"])["embeddings"])
        return np.concatenate(parts).astype(np.float32)


class LocalFaceModels:
    """:class:`FaceModels` running dlib in this process (models load on first use)."""

    name = "local-dlib"

    def __init__(self) -> None:
        from serving.faces_dlib import DlibFaceDetector, DlibFaceEmbedder

        self._detector = DlibFaceDetector()
        self._embedder = DlibFaceEmbedder()

    def detect(self, image: npt.NDArray[np.uint8], upsample: int) -> FaceDetections:
        boxes, scores, marks = self._detector.detect(image, upsample)
        return FaceDetections(boxes, scores, marks)

    def embed(self, chips: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        return self._embedder.embed(chips)
