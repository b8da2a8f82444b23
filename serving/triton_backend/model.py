"""Triton python-based backend: serve ``<model>/<version>/model.onnx`` with ONNX Runtime (CPU).

Triton runs this file inside ``triton_python_backend_stub`` (the Python of the Kouan venv) for
every model whose config says ``backend: "onnxruntime"`` when no ``libtriton_onnxruntime.so`` is
installed, i.e. in the embedded server. A GPU Triton with the real onnxruntime backend reads the
same config.pbtxt and never sees this file.

Config keys honoured (the same ones the real onnxruntime backend reads):

* ``default_model_filename`` (default ``model.onnx``), looked up in the version folder;
* ``parameters { key: "intra_op_thread_count" ... }`` and ``inter_op_thread_count``
  (string values, ``0`` = ONNX Runtime's default);
* ``max_batch_size > 0``: requests that Triton's dynamic batcher hands over together are
  concatenated along axis 0 when their non-batch shapes agree, run once, and split back.

Only ``numpy``, ``onnxruntime`` and the stub's ``triton_python_backend_utils`` are imported.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
import triton_python_backend_utils as pb_utils

Array = npt.NDArray[Any]


def _int_parameter(parameters: dict[str, Any], key: str) -> int:
    raw = parameters.get(key, {}).get("string_value", "0")
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"parameter {key}={raw!r} is not an integer") from None
    if value < 0:
        raise ValueError(f"parameter {key}={value} must be >= 0")
    return value


def session_options(parameters: dict[str, Any]) -> ort.SessionOptions:
    """ONNX Runtime options from the model config's ``parameters`` map."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = _int_parameter(parameters, "intra_op_thread_count")
    options.inter_op_num_threads = _int_parameter(parameters, "inter_op_thread_count")
    # Idle ORT worker threads spin for a while by default; with several models sharing two
    # cores, that spinning steals the CPU the other model's request needs.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def model_path(args: dict[str, str], config: dict[str, Any]) -> str:
    filename = config.get("default_model_filename") or "model.onnx"
    return os.path.join(args["model_repository"], args["model_version"], filename)


class TritonPythonModel:
    """One instance per Triton model instance; each owns one ORT session."""

    def initialize(self, args: dict[str, str]) -> None:
        config = json.loads(args["model_config"])
        path = model_path(args, config)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{args['model_name']}: no ONNX file at {path}")
        self.session = ort.InferenceSession(
            path, session_options(config.get("parameters", {})),
            providers=["CPUExecutionProvider"],
        )
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.output_names = [o["name"] for o in config.get("output", [])] or [
            o.name for o in self.session.get_outputs()
        ]
        self.batched = int(config.get("max_batch_size", 0)) > 0

    def execute(self, requests: list[Any]) -> list[Any]:
        responses: list[Any] = [None] * len(requests)
        groups: dict[tuple[Any, ...], list[tuple[int, dict[str, Array]]]] = {}
        for i, request in enumerate(requests):
            try:
                feeds = self._feeds(request)
            except ValueError as exc:
                responses[i] = _error(str(exc))
                continue
            # Only requests whose non-batch shapes and dtypes agree can be concatenated.
            key = (
                tuple((n, a.shape[1:], a.dtype.str) for n, a in feeds.items())
                if self.batched else (i,)
            )
            groups.setdefault(key, []).append((i, feeds))
        for members in groups.values():
            self._run_group(requests, members, responses)
        return responses

    def _feeds(self, request: Any) -> dict[str, Array]:
        feeds = {}
        for name in self.input_names:
            tensor = pb_utils.get_input_tensor_by_name(request, name)
            if tensor is None:
                raise ValueError(f"missing input {name!r}")
            feeds[name] = tensor.as_numpy()
        return feeds

    def _run_group(
        self, requests: list[Any], members: list[tuple[int, dict[str, Array]]],
        responses: list[Any],
    ) -> None:
        sizes = [next(iter(f.values())).shape[0] if self.batched else 1 for _, f in members]
        if len(members) == 1:
            feeds = members[0][1]
        else:
            feeds = {n: np.concatenate([f[n] for _, f in members]) for n in self.input_names}
        try:
            outputs = self.session.run(self.output_names, feeds)
        except Exception as exc:  # ORT raises its own types; every one becomes a request error
            for i, _ in members:
                responses[i] = _error(f"onnxruntime: {exc}")
            return
        splits = np.cumsum(sizes)[:-1]
        parts = [np.split(o, splits) if len(members) > 1 else [o] for o in outputs]
        for k, (i, _) in enumerate(members):
            wanted = set(requests[i].requested_output_names()) or set(self.output_names)
            tensors = [
                pb_utils.Tensor(name, np.ascontiguousarray(parts[j][k]))
                for j, name in enumerate(self.output_names) if name in wanted
            ]
            responses[i] = pb_utils.InferenceResponse(output_tensors=tensors)

    def finalize(self) -> None:
        self.session = None


def _error(message: str) -> Any:
    return pb_utils.InferenceResponse(output_tensors=[], error=pb_utils.TritonError(message))
