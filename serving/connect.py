"""Reaching the configured Triton: an external server (``KOUAN_TRITON_URL``) or an embedded one.

::

    with triton_session(get_settings()) as client:     # starts embedded Triton if no URL is set
        out = client.infer("ppocr_rec", {"x": batch}, ["fetch_name_0"])
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from kouan.config import Settings
from kouan.errors import KouanError
from serving.bundled import prepare_repository
from serving.client import TritonClient
from serving.embedded import EmbeddedTriton


def connect_triton(settings: Settings, embedded: EmbeddedTriton | None = None) -> TritonClient:
    """A client for ``settings.triton_url`` when set (gRPC or HTTP by its scheme); otherwise for
    the running ``embedded`` server over gRPC. Uses ``triton_timeout_s`` and ``triton_retries``.

    Raises :class:`KouanError` when no URL is set and no running embedded server is given.
    """
    url = settings.triton_url
    if url is None:
        if embedded is None or not embedded.running:
            raise KouanError("KOUAN_TRITON_URL is unset and no embedded Triton is running "
                             "(start one with serving.embedded.EmbeddedTriton)")
        url = embedded.grpc_url
    return TritonClient(url, timeout_s=settings.triton_timeout_s, retries=settings.triton_retries)


def embedded_work_dir(settings: Settings) -> Path:
    """Where an embedded Triton started for these settings keeps its backends and log."""
    return settings.data_dir / "triton"


@contextmanager
def triton_session(settings: Settings, repo: Path | None = None,
                   models: Sequence[str] | None = None) -> Iterator[TritonClient]:
    """A client for the configured Triton, closed on exit. With no ``triton_url``, an embedded
    server is started on ``repo`` (default: the committed repository, bundled models installed)
    for the duration of the block, loading ``models`` (default: all), its log in
    ``<data_dir>/triton/tritonserver.log``."""
    if settings.triton_url is not None:
        with connect_triton(settings) as client:
            yield client
        return
    with EmbeddedTriton(prepare_repository(repo), embedded_work_dir(settings),
                        models=models) as server, \
            connect_triton(settings, server) as client:
        yield client
