"""An :class:`~serving.client.InferenceClient` that runs the repository's ONNX models
in-process with ONNX Runtime (notebooks, offline analysis).

Same files, same newest-version rule and same tensor names as Triton, so everything written
against the client (``pipelines.gate.ocr.GateOcr``, ``serving.xray_atr.infer``) works unchanged
without a server. Models with a Python backend (the dlib face models) are not ONNX and are
refused with :class:`InferenceError`. Serving goes through Triton; this is for one process.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from serving.client import InferenceError
from serving.repository import default_repository, model_filename, versions

Array = npt.NDArray[Any]


class OnnxRuntimeClient:
    """Sessions are opened on first use, one per model, each with ``threads`` intra-op threads.
    ``repo`` must be prepared (``serving.bundled.prepare_repository``) for the bundled models
    that are not committed (PP-OCR rec)."""

    def __init__(self, repo: Path | None = None, threads: int = 2) -> None:
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        self.repo = (repo or default_repository()).resolve()
        self.threads = threads
        self._sessions: dict[str, Any] = {}
        self._lock = threading.Lock()

    def model_file(self, model: str) -> Path:
        """The newest version's ONNX file of ``model`` (what Triton would load)."""
        model_dir = self.repo / model
        if not (model_dir / "config.pbtxt").is_file():
            raise InferenceError(f"unknown model {model!r} in {self.repo}")
        found = versions(model_dir)
        name = model_filename(model_dir)
        if not found or not name.endswith(".onnx"):
            raise InferenceError(f"model {model!r} has no ONNX version ({name}); it needs "
                                 "Triton")
        path = model_dir / str(found[-1]) / name
        if not path.is_file():
            raise InferenceError(f"{path} is missing (run serving.bundled.prepare_repository)")
        return path

    def _session(self, model: str) -> Any:
        with self._lock:
            if model not in self._sessions:
                import onnxruntime as ort

                opts = ort.SessionOptions()
                opts.intra_op_num_threads = self.threads
                self._sessions[model] = ort.InferenceSession(
                    str(self.model_file(model)), opts, providers=["CPUExecutionProvider"])
            return self._sessions[model]

    def infer(self, model: str, inputs: Mapping[str, Array], outputs: Sequence[str]
              ) -> dict[str, Array]:
        if not inputs or not outputs:
            raise ValueError("infer needs at least one input and one output name")
        sess = self._session(model)
        try:
            got = sess.run(list(outputs), {k: np.ascontiguousarray(v) for k, v in inputs.items()})
        except Exception as exc:  # ORT raises its own types for bad names, shapes and dtypes
            raise InferenceError(f"onnxruntime {model}: {exc}") from exc
        return dict(zip(outputs, got, strict=True))

    def ready(self, model: str) -> bool:
        try:
            self._session(model)
        except InferenceError:
            return False
        return True

    def close(self) -> None:
        with self._lock:
            self._sessions.clear()
