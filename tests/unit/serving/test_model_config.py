"""config.pbtxt rendering from ModelSpec, and the committed repository agreeing with its specs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from serving import ppocr
from serving.model_config import DynamicBatching, ModelSpec, TensorSpec, render_config
from serving.repository import default_repository

X = TensorSpec("x", "FP32", (3, 48, -1))
Y = TensorSpec("y", "FP32", (-1, 10))


def _spec(**kw: object) -> ModelSpec:
    base: dict[str, object] = dict(name="m", inputs=(X,), outputs=(Y,), max_batch_size=8)
    base.update(kw)
    return ModelSpec(**base)  # type: ignore[arg-type]


def test_render_has_everything_triton_needs() -> None:
    text = render_config(_spec(intra_op_threads=2, inter_op_threads=1,
                               dynamic_batching=DynamicBatching(500, (4, 8))))
    for line in [
        'name: "m"',
        'backend: "onnxruntime"',
        'default_model_filename: "model.onnx"',
        "max_batch_size: 8",
        "data_type: TYPE_FP32",
        "dims: [ 3, 48, -1 ]",
        "dims: [ -1, 10 ]",
        "instance_group [ { count: 1 } ]",
        "dynamic_batching { preferred_batch_size: [ 4, 8 ] max_queue_delay_microseconds: 500 }",
        'parameters { key: "intra_op_thread_count" value: { string_value: "2" } }',
        'parameters { key: "inter_op_thread_count" value: { string_value: "1" } }',
    ]:
        assert line in text.splitlines() or line in text, line
    # no instance kind: Triton picks the GPU when there is one, the CPU otherwise
    assert "KIND_" not in text
    assert text.endswith("\n")


def test_without_batcher_and_threads_those_blocks_are_absent() -> None:
    text = render_config(_spec(dynamic_batching=None))
    assert "dynamic_batching" not in text and "parameters" not in text


def test_committed_ppocr_config_is_the_rendered_spec() -> None:
    committed = (default_repository() / ppocr.MODEL_NAME / "config.pbtxt").read_text("utf-8")
    assert committed == render_config(ppocr.PPOCR_REC)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (dict(name="bad name"), "bad model name"),
        (dict(inputs=()), "at least one input"),
        (dict(outputs=(TensorSpec("x", "FP32", (1,)),)), "duplicate"),
        (dict(max_batch_size=0), "dynamic batching needs"),
        (dict(instance_count=0), "instance_count"),
        (dict(intra_op_threads=-1), "thread counts"),
        (dict(model_filename="a/b.onnx"), "plain file name"),
        (dict(dynamic_batching=DynamicBatching(100, (16,))), "preferred batch size"),
    ],
)
def test_invalid_specs_raise(kw: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _spec(**kw)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("x", "FLOAT", (1,)), "dtype"),
        (("x", "FP32", ()), "dims"),
        (("x", "FP32", (0,)), "dims"),
        (("x", "FP32", (-2,)), "dims"),
        (("x y", "FP32", (1,)), "tensor name"),
    ],
)
def test_invalid_tensors_raise(args: tuple[str, str, tuple[int, ...]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TensorSpec(*args)


def test_unbatched_model_renders_zero_batch() -> None:
    spec = replace(_spec(dynamic_batching=None), max_batch_size=0)
    assert "max_batch_size: 0" in render_config(spec)


def test_negative_queue_delay_raises() -> None:
    with pytest.raises(ValueError):
        DynamicBatching(-1)
