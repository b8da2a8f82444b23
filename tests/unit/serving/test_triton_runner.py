"""The python-based backend (serving/triton_backend/model.py) with real ONNX Runtime and a fake
``triton_python_backend_utils`` (the real one only exists inside Triton's stub)."""

from __future__ import annotations

import importlib.util
import json
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from serving.embedded import RUNNER_SOURCE
from serving.ppocr import PPOCR_REC
from tests.fixtures.triton import TINY_SCALE, write_tiny_model

Array = npt.NDArray[Any]



class FakeTensor:
    def __init__(self, name: str, array: Array) -> None:
        self.name, self.array = name, array

    def as_numpy(self) -> Array:
        return self.array


class FakeResponse:
    def __init__(self, output_tensors: list[FakeTensor], error: Any = None) -> None:
        self.outputs = {t.name: t.array for t in output_tensors}
        self.error = error


class FakeError:
    def __init__(self, message: str) -> None:
        self.message = message


class FakeRequest:
    def __init__(self, inputs: dict[str, Array], requested: tuple[str, ...] = ()) -> None:
        self.inputs = {n: FakeTensor(n, a) for n, a in inputs.items()}
        self.requested = requested

    def requested_output_names(self) -> list[str]:
        return list(self.requested)


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    fake = types.ModuleType("triton_python_backend_utils")
    fake.Tensor = FakeTensor  # type: ignore[attr-defined]
    fake.InferenceResponse = FakeResponse  # type: ignore[attr-defined]
    fake.TritonError = FakeError  # type: ignore[attr-defined]
    fake.get_input_tensor_by_name = lambda req, name: req.inputs.get(name)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "triton_python_backend_utils", fake)
    spec = importlib.util.spec_from_file_location("kouan_test_triton_runner", RUNNER_SOURCE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _args(repo: Path, name: str, config: dict[str, Any]) -> dict[str, str]:
    return {"model_config": json.dumps(config), "model_repository": str(repo / name),
            "model_version": "1", "model_name": name}


def _model(runner: types.ModuleType, tmp_path: Path, **config: Any) -> Any:
    write_tiny_model(tmp_path, "tiny")
    base = {"max_batch_size": 8, "output": [{"name": "y"}], "parameters": {
        "intra_op_thread_count": {"string_value": "1"}}}
    base.update(config)
    model = runner.TritonPythonModel()
    model.initialize(_args(tmp_path, "tiny", base))
    return model


def test_batched_requests_are_merged_and_split_back(runner: types.ModuleType,
                                                    tmp_path: Path) -> None:
    model = _model(runner, tmp_path)
    calls: list[int] = []
    real_run = model.session.run

    def counting_run(names: list[str], feeds: dict[str, Array]) -> Any:
        calls.append(len(feeds["x"]))
        return real_run(names, feeds)

    model.session = types.SimpleNamespace(run=counting_run)
    xs = [np.full((n, 4), i, np.float32) for i, n in enumerate([1, 3, 2])]
    odd = np.ones((1, 4), np.float64)  # other dtype: cannot join the float32 batch
    responses = model.execute([FakeRequest({"x": x}) for x in xs] + [FakeRequest({"x": odd})])
    for x, response in zip(xs, responses, strict=False):
        assert response.error is None
        np.testing.assert_array_equal(response.outputs["y"], TINY_SCALE * x)
    assert responses[3].error is not None and "onnxruntime" in responses[3].error.message
    assert calls == [6, 1], "three float32 requests in one ORT run, the float64 one alone"


def test_missing_input_fails_only_that_request(runner: types.ModuleType, tmp_path: Path) -> None:
    model = _model(runner, tmp_path)
    good = np.ones((2, 4), np.float32)
    responses = model.execute([FakeRequest({}), FakeRequest({"x": good})])
    assert "missing input 'x'" in responses[0].error.message
    np.testing.assert_array_equal(responses[1].outputs["y"], 2 * good)


def test_unbatched_model_runs_each_request_alone(runner: types.ModuleType,
                                                 tmp_path: Path) -> None:
    model = _model(runner, tmp_path, max_batch_size=0)
    xs = [np.ones((2, 4), np.float32), np.zeros((2, 4), np.float32)]
    responses = model.execute([FakeRequest({"x": x}, requested=("y",)) for x in xs])
    for x, r in zip(xs, responses, strict=True):
        np.testing.assert_array_equal(r.outputs["y"], 2 * x)


def test_thread_parameters(runner: types.ModuleType) -> None:
    opts = runner.session_options({"intra_op_thread_count": {"string_value": "3"},
                                   "inter_op_thread_count": {"string_value": "1"}})
    assert (opts.intra_op_num_threads, opts.inter_op_num_threads) == (3, 1)
    assert runner.session_options({}).intra_op_num_threads == 0
    # idle threads must not spin: several models share the cores
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    for bad in ("two", "-1"):
        with pytest.raises(ValueError, match="intra_op_thread_count"):
            runner.session_options({"intra_op_thread_count": {"string_value": bad}})


def test_missing_onnx_file_fails_initialize(runner: types.ModuleType, tmp_path: Path) -> None:
    (tmp_path / "gone" / "1").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="no ONNX file"):
        runner.TritonPythonModel().initialize(_args(tmp_path, "gone", {"max_batch_size": 1}))


def test_default_model_filename_is_honoured(runner: types.ModuleType) -> None:
    path = runner.model_path({"model_repository": "/r/m", "model_version": "2"},
                             {"default_model_filename": PPOCR_REC.model_filename})
    assert path == "/r/m/2/model.onnx"
    assert runner.model_path({"model_repository": "/r/m", "model_version": "1"},
                             {"default_model_filename": "other.onnx"}) == "/r/m/1/other.onnx"
