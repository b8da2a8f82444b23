"""The embedded launcher on its own servers: start, serve a dropped-in model, stop, clean up."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from kouan.errors import KouanError, ServiceUnavailable
from serving.client import TritonClient
from serving.embedded import EmbeddedTriton
from tests.fixtures.triton import TINY_SCALE, tiny_input, write_tiny_model

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _shm_regions(prefix: str) -> list[Path]:
    return list(Path("/dev/shm").glob(f"{prefix}*"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(
        f"/proc/{pid}/status").read_text()


def test_dropped_in_model_is_served_then_everything_is_cleaned_up(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_tiny_model(repo, "tiny")
    write_tiny_model(repo, "tiny_unbatched", batching=False)
    server = EmbeddedTriton(repo, stop_timeout_s=10)
    with server:
        assert server.startup_s is not None and server.startup_s < 60
        work, prefix, pid = server.work_dir, server.shm_prefix, server.pid
        assert work is not None and (work / "tritonserver.log").is_file()
        assert _shm_regions(prefix), "python backend shared memory not under our prefix"
        for url in (server.grpc_url, server.http_url):
            with TritonClient(url, timeout_s=10) as client:
                for model in ("tiny", "tiny_unbatched"):
                    assert client.ready(model)
                    x = tiny_input(3)
                    y = client.infer(model, {"x": x}, ["y"])["y"]
                    np.testing.assert_array_equal(y, TINY_SCALE * x)
        grpc_url = server.grpc_url
    assert pid is not None and not server.running and not _alive(pid)
    assert work is not None and not work.exists(), "own temp work dir not removed"
    assert not _shm_regions(prefix)
    t0 = time.monotonic()
    with TritonClient(grpc_url, timeout_s=2, retries=1, backoff_s=0.05) as client, \
            pytest.raises(ServiceUnavailable, match="unreachable"):
        client.infer("tiny", {"x": tiny_input(1)}, ["y"])
    assert time.monotonic() - t0 < 5


def test_only_named_models_load_and_a_killed_server_is_cleaned_up(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_tiny_model(repo)
    write_tiny_model(repo, "broken")
    (repo / "broken" / "1" / "model.onnx").write_bytes(b"not an onnx file")
    # Explicit model control: the broken model is never loaded, so the start succeeds.
    server = EmbeddedTriton(repo, tmp_path / "work", models=["tiny"]).start()
    with TritonClient(server.grpc_url, timeout_s=5) as client:
        assert client.ready("tiny") and not client.ready("broken")
    with pytest.raises(KouanError, match="another embedded Triton is running"):
        EmbeddedTriton(repo, tmp_path / "work").start()  # same work dir: refused, nothing started
    prefix, pid = server.shm_prefix, server.pid
    envs = set(server._new_python_envs)  # /tmp/python_env_* dirs this server's backend made
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # a crash: no graceful shutdown, stubs orphaned
    time.sleep(0.5)
    assert _shm_regions(prefix), "expected leftovers after a hard kill"
    server.stop()
    assert not _shm_regions(prefix)
    assert not any((Path("/tmp") / name).exists() for name in envs)
    assert (tmp_path / "work" / "tritonserver.log").is_file(), "caller's work dir must be kept"


def test_broken_model_fails_fast_with_the_log_tail(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_tiny_model(repo, "broken")
    (repo / "broken" / "1" / "model.onnx").write_bytes(b"not an onnx file")
    t0 = time.monotonic()
    with pytest.raises(ServiceUnavailable) as info:
        EmbeddedTriton(repo, tmp_path / "work", startup_timeout_s=60).start()
    assert time.monotonic() - t0 < 30
    message = str(info.value)
    assert "exited with code" in message
    assert "failed to load 'broken'" in message, "the log summary must carry the cause"
