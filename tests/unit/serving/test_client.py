"""TritonClient: URL parsing, bounded retries on transport errors only, ServiceUnavailable."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pytest

from kouan.config import Settings
from kouan.errors import KouanError, ServiceUnavailable
from serving.client import InferenceClient, InferenceError, TritonClient, parse_triton_url
from serving.connect import connect_triton
from serving.embedded import free_port

Array = npt.NDArray[np.float32]


class TransportDown(Exception):
    """What the fake transport raises for a transport failure."""


class FakeTransport:
    """Fails the first ``failures`` calls with ``error``, then echoes ``x * 2`` as ``y``."""

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.failures, self.error = failures, error or TransportDown("refused")
        self.calls = 0
        self.closed = False

    def _maybe_fail(self) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error

    def infer(self, model: str, inputs: Mapping[str, Array], outputs: Sequence[str],
              timeout_s: float) -> dict[str, Array]:
        self._maybe_fail()
        return {"y": inputs["x"] * 2}

    def model_ready(self, model: str, timeout_s: float) -> bool:
        self._maybe_fail()
        return model == "m"

    def server_live(self, timeout_s: float) -> bool:
        self._maybe_fail()
        return True

    def is_transport_error(self, exc: BaseException) -> bool:
        return isinstance(exc, TransportDown)

    def close(self) -> None:
        self.closed = True


def _client(transport: FakeTransport, retries: int = 2) -> TritonClient:
    return TritonClient("grpc://example:8001", timeout_s=1, retries=retries, backoff_s=0.001,
                        transport=transport)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("grpc://10.0.0.5:8001", ("grpc", "10.0.0.5:8001", False)),
        ("grpc://triton", ("grpc", "triton:8001", False)),
        ("http://triton:9000", ("http", "triton:9000", False)),
        ("http://triton", ("http", "triton:8000", False)),
        ("https://triton.port.example", ("http", "triton.port.example:443", True)),
        ("grpc://[::1]:8001", ("grpc", "[::1]:8001", False)),
    ],
)
def test_parse_triton_url(url: str, expected: tuple[str, str, bool]) -> None:
    assert parse_triton_url(url) == expected


@pytest.mark.parametrize("url", ["triton:8001", "tcp://x:1", "grpc://", "http://h:1/v2"])
def test_bad_urls_raise(url: str) -> None:
    with pytest.raises(ValueError):
        parse_triton_url(url)


def test_transport_errors_are_retried_then_succeed() -> None:
    transport = FakeTransport(failures=2)
    out = _client(transport).infer("m", {"x": np.ones((1, 2), np.float32)}, ["y"])
    np.testing.assert_array_equal(out["y"], [[2.0, 2.0]])
    assert transport.calls == 3


@pytest.mark.parametrize("retries", [0, 1, 3])
def test_retries_are_bounded_then_service_unavailable(retries: int) -> None:
    transport = FakeTransport(failures=100)
    with pytest.raises(ServiceUnavailable, match="unreachable"):
        _client(transport, retries).ready("m")
    assert transport.calls == retries + 1


def test_server_errors_are_not_retried() -> None:
    transport = FakeTransport(failures=1, error=RuntimeError("unknown model 'z'"))
    with pytest.raises(InferenceError, match="unknown model"):
        _client(transport).infer("z", {"x": np.ones((1, 2), np.float32)}, ["y"])
    assert transport.calls == 1


def test_wait_ready_times_out_with_service_unavailable() -> None:
    client = _client(FakeTransport())
    client.wait_ready("m", timeout_s=1)
    with pytest.raises(ServiceUnavailable, match="not ready"):
        client.wait_ready("other", timeout_s=0.2, poll_s=0.05)


def test_client_satisfies_protocol_and_closes_transport() -> None:
    transport = FakeTransport()
    with _client(transport) as client:
        seam: InferenceClient = client
        assert seam.ready("m")
    assert transport.closed


@pytest.mark.parametrize("scheme", ["grpc", "http"])
def test_closed_port_gives_service_unavailable_quickly(scheme: str) -> None:
    url = f"{scheme}://127.0.0.1:{free_port()}"  # nothing listens there
    t0 = time.monotonic()
    with TritonClient(url, timeout_s=2, retries=2, backoff_s=0.05) as client, \
            pytest.raises(ServiceUnavailable, match=r"unreachable.*3 attempt"):
        client.infer("m", {"x": np.ones((1, 2), np.float32)}, ["y"])
    assert time.monotonic() - t0 < 2.0


def test_invalid_arguments_raise_value_error() -> None:
    with pytest.raises(ValueError):
        TritonClient("grpc://h:1", timeout_s=0)
    with pytest.raises(ValueError):
        _client(FakeTransport()).infer("m", {}, ["y"])


def test_connect_triton_uses_the_configured_url_and_settings() -> None:
    settings = Settings(triton_url="http://127.0.0.1:8000", triton_timeout_s=3, triton_retries=4)
    with connect_triton(settings) as client:
        assert (client.protocol, client.timeout_s, client.retries) == ("http", 3, 4)


def test_connect_triton_without_url_needs_a_running_embedded_server() -> None:
    with pytest.raises(KouanError, match="KOUAN_TRITON_URL is unset"):
        connect_triton(Settings())


def test_free_ports_are_distinct() -> None:
    from serving.embedded import free_ports

    for _ in range(20):
        ports = free_ports(3)
        assert len(set(ports)) == 3 and all(0 < p < 65536 for p in ports)
