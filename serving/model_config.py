"""Triton ``config.pbtxt`` for ONNX models, rendered from a small typed spec.

One config serves both deployments, unchanged:

* **GPU / production Triton** (NGC container): ``backend: "onnxruntime"`` loads the real
  onnxruntime backend (``libtriton_onnxruntime.so``). ``instance_group`` gives no ``kind``, so
  Triton places the instance on the GPU when there is one (``KIND_AUTO``).
  ``intra_op_thread_count`` / ``inter_op_thread_count`` are that backend's own parameter names.
* **Embedded Triton** (the nvidia-pytriton binary ships only the python backend): the launcher
  installs :mod:`serving.triton_backend` as a *python-based backend* named ``onnxruntime``
  (``<backend-dir>/onnxruntime/model.py``). Triton falls back to it because no
  ``libtriton_onnxruntime.so`` is there, and it reads the same keys.

So adding a model is: ``<repo>/<name>/config.pbtxt`` (render it with :func:`render_config`)
plus ``<repo>/<name>/<version>/model.onnx``. Input/output names must be the ONNX graph's names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Triton data types (config spelling without the TYPE_ prefix) this module accepts.
TRITON_DTYPES = frozenset(
    {"BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64",
     "FP16", "FP32", "FP64", "BF16", "STRING"}
)
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True)
class TensorSpec:
    """One model input or output. ``dims`` exclude the batch dimension when the model batches
    (``max_batch_size > 0``); ``-1`` marks a variable dimension."""

    name: str
    dtype: str
    dims: tuple[int, ...]

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"bad tensor name {self.name!r}")
        if self.dtype not in TRITON_DTYPES:
            raise ValueError(f"{self.name}: dtype {self.dtype!r} not in {sorted(TRITON_DTYPES)}")
        if not self.dims or any(d == 0 or d < -1 for d in self.dims):
            raise ValueError(f"{self.name}: dims must be non-empty, each > 0 or -1: {self.dims}")


@dataclass(frozen=True)
class DynamicBatching:
    """Triton's dynamic batcher: wait up to ``max_queue_delay_us`` microseconds to merge requests
    of equal shape into one batch of at most ``max_batch_size``."""

    max_queue_delay_us: int = 2000
    preferred_batch_sizes: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.max_queue_delay_us < 0:
            raise ValueError("max_queue_delay_us must be >= 0")
        if any(b < 1 for b in self.preferred_batch_sizes):
            raise ValueError("preferred batch sizes must be >= 1")


@dataclass(frozen=True)
class ModelSpec:
    """What Triton needs to serve one ONNX model."""

    name: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    max_batch_size: int
    dynamic_batching: DynamicBatching | None = field(default_factory=DynamicBatching)
    instance_count: int = 1
    intra_op_threads: int = 0  # 0: ONNX Runtime default (one thread per core)
    inter_op_threads: int = 0
    model_filename: str = "model.onnx"

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"bad model name {self.name!r}")
        if not self.inputs or not self.outputs:
            raise ValueError(f"{self.name}: needs at least one input and one output")
        names = [t.name for t in (*self.inputs, *self.outputs)]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: duplicate tensor names {names}")
        if self.max_batch_size < 0 or self.instance_count < 1:
            raise ValueError(f"{self.name}: max_batch_size >= 0 and instance_count >= 1")
        if self.dynamic_batching is not None and self.max_batch_size == 0:
            raise ValueError(f"{self.name}: dynamic batching needs max_batch_size > 0")
        if self.intra_op_threads < 0 or self.inter_op_threads < 0:
            raise ValueError(f"{self.name}: thread counts must be >= 0")
        if "/" in self.model_filename or not self.model_filename:
            raise ValueError(f"{self.name}: model_filename must be a plain file name")
        if self.dynamic_batching is not None and any(
            b > self.max_batch_size for b in self.dynamic_batching.preferred_batch_sizes
        ):
            raise ValueError(f"{self.name}: preferred batch size above max_batch_size")


def _tensors(kind: str, tensors: tuple[TensorSpec, ...]) -> list[str]:
    lines = [f"{kind} ["]
    for i, t in enumerate(tensors):
        dims = ", ".join(str(d) for d in t.dims)
        lines += [
            "  {",
            f'    name: "{t.name}"',
            f"    data_type: TYPE_{t.dtype}",
            f"    dims: [ {dims} ]",
            "  }" + ("," if i < len(tensors) - 1 else ""),
        ]
    return [*lines, "]"]


def _parameter(key: str, value: str) -> list[str]:
    return [f'parameters {{ key: "{key}" value: {{ string_value: "{value}" }} }}']


def render_config(spec: ModelSpec) -> str:
    """The ``config.pbtxt`` text for ``spec`` (deterministic; ends with a newline)."""
    lines = [
        "# Rendered by serving.model_config.render_config; edit the ModelSpec, not this file.",
        f'name: "{spec.name}"',
        'backend: "onnxruntime"',
        f'default_model_filename: "{spec.model_filename}"',
        f"max_batch_size: {spec.max_batch_size}",
        "version_policy: { latest: { num_versions: 1 } }",
        *_tensors("input", spec.inputs),
        *_tensors("output", spec.outputs),
        f"instance_group [ {{ count: {spec.instance_count} }} ]",
    ]
    if spec.dynamic_batching is not None:
        db = spec.dynamic_batching
        preferred = ""
        if db.preferred_batch_sizes:
            sizes = ", ".join(map(str, db.preferred_batch_sizes))
            preferred = f"preferred_batch_size: [ {sizes} ] "
        lines.append(f"dynamic_batching {{ {preferred}max_queue_delay_microseconds: "
                     f"{db.max_queue_delay_us} }}")
    if spec.intra_op_threads:
        lines += _parameter("intra_op_thread_count", str(spec.intra_op_threads))
    if spec.inter_op_threads:
        lines += _parameter("inter_op_thread_count", str(spec.inter_op_threads))
    return "\n".join(lines) + "\n"
