"""Inference clients: the :class:`InferenceClient` seam and its Triton implementation.

Callers see tensors in, tensors out::

    client = TritonClient("grpc://127.0.0.1:8001")       # or http://host:8000
    out = client.infer("ppocr_rec", {"x": batch}, ["fetch_name_0"])

Transport failures (connection refused, reset, timeout) are retried a bounded number of times
with a short back-off, then raised as :class:`kouan.errors.ServiceUnavailable`. Errors the server
reports (unknown model, bad shape or dtype) are not retried; they raise :class:`InferenceError`.
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar
from urllib.parse import urlparse

import numpy as np
import numpy.typing as npt
import tritonclient.grpc as triton_grpc
import tritonclient.http as triton_http
from tritonclient.utils import InferenceServerException, np_to_triton_dtype

from kouan.errors import KouanError, ServiceUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")
Array = npt.NDArray[Any]

# gRPC status codes that mean "the request did not reach a working server in time".
_GRPC_TRANSPORT_CODES = frozenset({"StatusCode.UNAVAILABLE", "StatusCode.DEADLINE_EXCEEDED"})


class InferenceError(KouanError):
    """The server answered but refused or failed the request (bad input, unknown model)."""


class InferenceClient(Protocol):
    """Tensors in, tensors out, for one inference server."""

    def infer(
        self, model: str, inputs: Mapping[str, Array], outputs: Sequence[str]
    ) -> dict[str, Array]:
        """Run ``model`` on named input arrays (batch dimension first); return the named outputs."""
        ...

    def ready(self, model: str) -> bool:
        """Whether ``model`` is loaded and can serve; ServiceUnavailable if the server is down."""
        ...

    def close(self) -> None: ...


class _Transport(Protocol):
    """What :class:`TritonClient` needs from one tritonclient flavour (gRPC or HTTP)."""

    def infer(self, model: str, inputs: Mapping[str, Array], outputs: Sequence[str],
              timeout_s: float) -> dict[str, Array]: ...

    def model_ready(self, model: str, timeout_s: float) -> bool: ...

    def server_live(self, timeout_s: float) -> bool: ...

    def is_transport_error(self, exc: BaseException) -> bool: ...

    def close(self) -> None: ...


def _server_message(exc: BaseException) -> str:
    if isinstance(exc, InferenceServerException):
        return f"{exc.message()} ({exc.status()})" if exc.status() else str(exc.message())
    return f"{type(exc).__name__}: {exc}"


class _GrpcTransport:
    """tritonclient.grpc; one channel, safe to share between threads."""

    def __init__(self, address: str, ssl: bool) -> None:
        self._client = triton_grpc.InferenceServerClient(address, ssl=ssl)

    def infer(self, model: str, inputs: Mapping[str, Array], outputs: Sequence[str],
              timeout_s: float) -> dict[str, Array]:
        reqs = []
        for name, array in inputs.items():
            inp = triton_grpc.InferInput(name, list(array.shape), np_to_triton_dtype(array.dtype))
            inp.set_data_from_numpy(array)
            reqs.append(inp)
        wanted = [triton_grpc.InferRequestedOutput(n) for n in outputs]
        result = self._client.infer(model, reqs, outputs=wanted, client_timeout=timeout_s)
        return {n: result.as_numpy(n) for n in outputs}

    def model_ready(self, model: str, timeout_s: float) -> bool:
        return bool(self._client.is_model_ready(model, client_timeout=timeout_s))

    def server_live(self, timeout_s: float) -> bool:
        return bool(self._client.is_server_live(client_timeout=timeout_s))

    def is_transport_error(self, exc: BaseException) -> bool:
        return isinstance(exc, InferenceServerException) and exc.status() in _GRPC_TRANSPORT_CODES

    def close(self) -> None:
        self._client.close()


class _HttpTransport:
    """tritonclient.http; its gevent connection pool is not thread-safe, so one client per
    calling thread (all closed by :meth:`close`)."""

    def __init__(self, address: str, ssl: bool, timeout_s: float) -> None:
        self._address, self._ssl, self._timeout_s = address, ssl, timeout_s
        self._local = threading.local()
        self._all: list[triton_http.InferenceServerClient] = []
        self._lock = threading.Lock()

    def _client(self) -> triton_http.InferenceServerClient:
        client = getattr(self._local, "client", None)
        if client is None:
            client = triton_http.InferenceServerClient(
                self._address, ssl=self._ssl, connection_timeout=self._timeout_s,
                network_timeout=self._timeout_s,
            )
            self._local.client = client
            with self._lock:
                self._all.append(client)
        return client

    def infer(self, model: str, inputs: Mapping[str, Array], outputs: Sequence[str],
              timeout_s: float) -> dict[str, Array]:
        reqs = []
        for name, array in inputs.items():
            inp = triton_http.InferInput(name, list(array.shape), np_to_triton_dtype(array.dtype))
            inp.set_data_from_numpy(array, binary_data=True)
            reqs.append(inp)
        wanted = [triton_http.InferRequestedOutput(n, binary_data=True) for n in outputs]
        result = self._client().infer(model, reqs, outputs=wanted)
        return {n: result.as_numpy(n) for n in outputs}

    def model_ready(self, model: str, timeout_s: float) -> bool:
        return bool(self._client().is_model_ready(model))

    def server_live(self, timeout_s: float) -> bool:
        return bool(self._client().is_server_live())

    def is_transport_error(self, exc: BaseException) -> bool:
        # OSError covers refused/reset/timeout; HTTPException covers a connection closed mid-reply.
        return isinstance(exc, OSError | http.client.HTTPException)

    def close(self) -> None:
        with self._lock:
            clients, self._all = self._all, []
        for client in clients:
            client.close()


def parse_triton_url(url: str) -> tuple[str, str, bool]:
    """``grpc://h:p`` / ``http://h:p`` / ``https://h:p`` -> (protocol, ``host:port``, ssl).

    Default ports: 8001 for gRPC, 8000 for HTTP, 443 for HTTPS. Raises ``ValueError`` otherwise.
    """
    parsed = urlparse(url)
    if parsed.scheme not in ("grpc", "http", "https") or not parsed.hostname:
        raise ValueError(f"Triton URL must be grpc://host:port or http(s)://host:port, got {url!r}")
    if parsed.path not in ("", "/"):
        raise ValueError(f"Triton URL must not have a path: {url!r}")
    default = {"grpc": 8001, "http": 8000, "https": 443}[parsed.scheme]
    host = f"[{parsed.hostname}]" if ":" in parsed.hostname else parsed.hostname
    protocol = "grpc" if parsed.scheme == "grpc" else "http"
    return protocol, f"{host}:{parsed.port or default}", parsed.scheme == "https"


class TritonClient:
    """:class:`InferenceClient` for a Triton server at ``url`` (gRPC or HTTP).

    ``timeout_s`` bounds each attempt (connect + reply); ``retries`` extra attempts follow a
    transport error, sleeping ``backoff_s * 2**k`` between them. Thread-safe.
    """

    def __init__(self, url: str, timeout_s: float = 10.0, retries: int = 2,
                 backoff_s: float = 0.1, transport: _Transport | None = None) -> None:
        if timeout_s <= 0 or retries < 0 or backoff_s < 0:
            raise ValueError("timeout_s > 0, retries >= 0 and backoff_s >= 0 required")
        protocol, address, ssl = parse_triton_url(url)
        self.url, self.protocol = url, protocol
        self.timeout_s, self.retries, self.backoff_s = timeout_s, retries, backoff_s
        if transport is not None:
            self._transport: _Transport = transport
        elif protocol == "grpc":
            self._transport = _GrpcTransport(address, ssl)
        else:
            self._transport = _HttpTransport(address, ssl, timeout_s)

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        attempt = 0
        while True:
            try:
                return fn()
            except Exception as exc:
                if not self._transport.is_transport_error(exc):
                    raise InferenceError(
                        f"Triton {self.url}: {what}: {_server_message(exc)}") from exc
                if attempt >= self.retries:
                    raise ServiceUnavailable(
                        f"Triton at {self.url} unreachable ({what}, {attempt + 1} attempt(s), "
                        f"timeout {self.timeout_s:g}s): {_server_message(exc)}"
                    ) from exc
                delay = self.backoff_s * (2**attempt)
                log.warning("Triton %s: %s failed (%s); retry in %.2fs", self.url, what,
                            _server_message(exc), delay)
                time.sleep(delay)
                attempt += 1

    def infer(
        self, model: str, inputs: Mapping[str, Array], outputs: Sequence[str]
    ) -> dict[str, Array]:
        if not inputs or not outputs:
            raise ValueError("infer needs at least one input and one output name")
        arrays = {n: np.ascontiguousarray(a) for n, a in inputs.items()}
        return self._call(f"infer {model}", lambda: self._transport.infer(
            model, arrays, outputs, self.timeout_s))

    def ready(self, model: str) -> bool:
        return self._call(f"ready {model}",
                          lambda: self._transport.model_ready(model, self.timeout_s))

    def live(self) -> bool:
        """Whether the server is live (ServiceUnavailable if it cannot be reached)."""
        return self._call("live", lambda: self._transport.server_live(self.timeout_s))

    def wait_ready(self, model: str, timeout_s: float = 30.0, poll_s: float = 0.2) -> None:
        """Block until ``model`` is ready; ServiceUnavailable after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        last = "not ready"
        while time.monotonic() < deadline:
            try:
                if self.ready(model):
                    return
            except (ServiceUnavailable, InferenceError) as exc:
                last = str(exc)
            time.sleep(poll_s)
        raise ServiceUnavailable(f"model {model} not ready on {self.url} after {timeout_s:g}s: "
                                 f"{last}")

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> TritonClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
