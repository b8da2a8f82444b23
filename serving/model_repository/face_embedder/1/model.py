"""Triton python-backend model ``face_embedder``: dlib ResNet on aligned chips.

Input ``chips`` uint8 ``[N, 150, 150, 3]`` RGB, cut by :func:`vision.faces.align.extract_chips`
(dlib's 5-point alignment, padding 0.25). Output ``embeddings`` float32 ``[N, 128]``
(Euclidean metric; dlib's operating point 0.6). Weights: ``face-recognition-models`` 0.3.0.
Requests merged by the dynamic batcher run as one dlib batch and are split back.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils

try:
    from serving.faces_dlib import DlibFaceEmbedder
except ImportError:  # the stub's Python may lack the editable install: use this checkout
    sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), *[".."] * 4)))
    from serving.faces_dlib import DlibFaceEmbedder


def _error(message: str) -> Any:
    return pb_utils.InferenceResponse(output_tensors=[], error=pb_utils.TritonError(message))


class TritonPythonModel:
    def initialize(self, args: dict[str, str]) -> None:
        self.embedder = DlibFaceEmbedder()

    def execute(self, requests: list[Any]) -> list[Any]:
        responses: list[Any] = [None] * len(requests)
        batches: list[tuple[int, np.ndarray]] = []
        for i, request in enumerate(requests):
            chips = pb_utils.get_input_tensor_by_name(request, "chips").as_numpy()
            if chips.ndim != 4 or chips.shape[1:] != (150, 150, 3):
                responses[i] = _error(f"chips must be [N, 150, 150, 3], got {chips.shape}")
                continue
            batches.append((i, chips))
        if batches:
            try:
                out = self.embedder.embed(np.concatenate([c for _, c in batches]))
            except Exception as exc:  # dlib raises RuntimeError subclasses; fail the requests
                for i, _ in batches:
                    responses[i] = _error(f"face_embedder: {exc}")
                return responses
            start = 0
            for i, chips in batches:
                part = np.ascontiguousarray(out[start:start + len(chips)])
                start += len(chips)
                responses[i] = pb_utils.InferenceResponse(
                    output_tensors=[pb_utils.Tensor("embeddings", part)])
        return responses

    def finalize(self) -> None:
        self.embedder = None
