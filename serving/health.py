"""Triton status for ``kouan doctor``: reach an external server, or check the embedded one could
start (binary, python stub, runner present). Never starts anything."""

from __future__ import annotations

from kouan.config import Settings
from kouan.errors import KouanError
from kouan.health import ComponentStatus
from serving.bundled import INSTALLERS
from serving.client import TritonClient
from serving.embedded import RUNNER_SOURCE, find_distribution
from serving.repository import default_repository, missing_model_files

COMPONENT = "triton"
EXTERNAL_TIMEOUT_S = 2.0


def check_triton(settings: Settings) -> ComponentStatus:
    """``external``: is_server_live at ``settings.triton_url`` within 2 s, no retries.
    ``embedded``: the nvidia-pytriton tritonserver binary, the python backend and the stub for
    this Python exist, and the ONNX runner is in place."""
    if settings.triton_url:
        return _check_external(settings.triton_url)
    return _check_embedded()


def _check_external(url: str) -> ComponentStatus:
    try:
        with TritonClient(url, timeout_s=EXTERNAL_TIMEOUT_S, retries=0) as client:
            live = client.live()
    except (KouanError, ValueError) as exc:
        return ComponentStatus(COMPONENT, "external", url, False, _one_line(exc))
    return ComponentStatus(COMPONENT, "external", url, live, "live" if live else "not live")


def _check_embedded() -> ComponentStatus:
    try:
        dist = find_distribution()
    except FileNotFoundError as exc:
        return ComponentStatus(COMPONENT, "embedded", "tritonserver", False, _one_line(exc))
    missing = [str(p) for p in dist.missing()]
    if not RUNNER_SOURCE.is_file():
        missing.append(str(RUNNER_SOURCE))
    if missing:
        return ComponentStatus(COMPONENT, "embedded", str(dist.binary), False,
                               "missing: " + ", ".join(missing))
    detail = f"binary and python stub present (python {dist.stub.parent.name})"
    repo = default_repository()
    try:
        absent = missing_model_files(repo)
    except FileNotFoundError as exc:
        return ComponentStatus(COMPONENT, "embedded", str(dist.binary), False, _one_line(exc))
    # Bundled weights are copied from their wheel when Triton first starts: not a failure.
    fatal = [p for p in absent if p.relative_to(repo).parts[0] not in INSTALLERS]
    if fatal:
        return ComponentStatus(COMPONENT, "embedded", str(dist.binary), False,
                               "model files missing: " + ", ".join(str(p) for p in fatal))
    if absent:
        detail += f"; {len(absent)} bundled model file(s) installed on first start"
    return ComponentStatus(COMPONENT, "embedded", str(dist.binary), True, detail)


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]
