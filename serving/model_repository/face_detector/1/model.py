"""Triton python-backend model ``face_detector``: dlib HOG detector + 5-point landmarks.

Inputs: ``image`` uint8 ``[H, W, 3]`` RGB (send it downscaled, see
:func:`vision.faces.detect_prep.detection_image`), ``upsample`` int32 ``[1]`` (0-2; each step
doubles the image inside dlib, finding faces half as large at ~4x the cost). Outputs, in the
sent image's pixels: ``boxes`` float32 ``[N, 4]`` xyxy, ``scores`` float32 ``[N]`` (SVM
margin, >= the ``min_score`` parameter), ``landmarks`` float32 ``[N, 5, 2]`` (dlib order).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import triton_python_backend_utils as pb_utils

try:
    from serving.faces_dlib import DlibFaceDetector
except ImportError:  # the stub's Python may lack the editable install: use this checkout
    sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), *[".."] * 4)))
    from serving.faces_dlib import DlibFaceDetector


def _error(message: str) -> Any:
    return pb_utils.InferenceResponse(output_tensors=[], error=pb_utils.TritonError(message))


class TritonPythonModel:
    def initialize(self, args: dict[str, str]) -> None:
        params = json.loads(args["model_config"]).get("parameters", {})
        self.min_score = float(params.get("min_score", {}).get("string_value", "0.0"))
        self.detector = DlibFaceDetector()

    def execute(self, requests: list[Any]) -> list[Any]:
        responses = []
        for request in requests:
            image = pb_utils.get_input_tensor_by_name(request, "image").as_numpy()
            upsample = int(pb_utils.get_input_tensor_by_name(request, "upsample").as_numpy()
                           .reshape(-1)[0])
            try:
                boxes, scores, marks = self.detector.detect(image, upsample, self.min_score)
            except (ValueError, RuntimeError) as exc:
                responses.append(_error(f"face_detector: {exc}"))
                continue
            responses.append(pb_utils.InferenceResponse(output_tensors=[
                pb_utils.Tensor("boxes", boxes), pb_utils.Tensor("scores", scores),
                pb_utils.Tensor("landmarks", marks)]))
        return responses

    def finalize(self) -> None:
        self.detector = None
