"""Embedded Triton: the ``tritonserver`` binary shipped in the nvidia-pytriton wheel, on loopback.

::

    with EmbeddedTriton(default_repository()) as triton:
        client = TritonClient(triton.grpc_url)

What :meth:`EmbeddedTriton.start` sets up (see ../shared/STACK_NOTES.md, pitfalls 5-8):

* a private work dir with ``backends/python`` (the bundled python backend + the stub built for
  this interpreter's minor version) and ``backends/onnxruntime/model.py`` (the ONNX Runtime
  runner of :mod:`serving.triton_backend`, serving every ``backend: "onnxruntime"`` model);
* ``LD_LIBRARY_PATH=<sys.base_prefix>/lib:<site-packages>/nvidia_pytriton.libs`` so the stub links
  this interpreter's libpython and the copied backend finds its libraries, and this venv's
  ``bin`` first on ``PATH`` so the stub imports the venv's packages (numpy, onnxruntime);
* HTTP, gRPC and metrics on 127.0.0.1, on free ports; a unique shared-memory prefix;
* the server log in ``<work_dir>/tritonserver.log``.

Startup waits for ``/v2/health/ready`` (all models loaded). :meth:`stop` sends SIGTERM to the
server's process group, then SIGKILL after ``stop_timeout_s``, and removes the shared-memory
regions and ``/tmp/python_env_*`` folders the python backend leaves behind after a hard kill.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from kouan.errors import KouanError, ServiceUnavailable

log = logging.getLogger(__name__)

RUNNER_SOURCE = Path(__file__).resolve().parent / "triton_backend" / "model.py"
RUNNER_BACKEND_NAME = "onnxruntime"
LOG_NAME = "tritonserver.log"


@dataclass(frozen=True)
class TritonDistribution:
    """Files of the Triton build shipped in nvidia-pytriton, for this interpreter."""

    binary: Path
    python_backend: Path  # folder with libtriton_python.so + triton_python_backend_utils.py
    stub: Path  # triton_python_backend_stub for this Python minor version
    libs: Path  # nvidia_pytriton.libs (the wheel's vendored shared libraries)

    def missing(self) -> list[Path]:
        return [p for p in (self.binary, self.python_backend, self.stub, self.libs)
                if not p.exists()]


def find_distribution() -> TritonDistribution:
    """Locate tritonserver in the installed nvidia-pytriton (FileNotFoundError if absent)."""
    spec = importlib.util.find_spec("pytriton")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("nvidia-pytriton is not installed (no 'pytriton' package)")
    root = Path(next(iter(spec.submodule_search_locations))) / "tritonserver"
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    return TritonDistribution(
        binary=root / "bin" / "tritonserver",
        python_backend=root / "backends" / "python",
        stub=root / "python_backend_stubs" / py / "triton_python_backend_stub",
        libs=root.parent.parent / "nvidia_pytriton.libs",
    )


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago (the OS picks it)."""
    return free_ports(1)[0]


def free_ports(n: int) -> list[int]:
    """``n`` distinct TCP ports that were free on 127.0.0.1 a moment ago. All ``n`` sockets are
    held while the OS picks, so it cannot hand the same just-released port out twice (which
    once gave Triton's HTTP and gRPC servers the same port)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
                 for _ in range(n)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]


def tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a text file ('' if it does not exist)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


# Error lines a CPU-only machine always logs; they say nothing about why a start failed.
_HARMLESS = ("CudaDriverHelper", "NVML", "DCGM", "pinned memory", "CUDA driver")
_GLOG_ERROR = re.compile(r"^E\d{4} ")


def log_summary(path: Path, max_errors: int = 8, last: int = 5) -> str:
    """The error lines of a tritonserver log (glog ``E...`` lines and ``error:`` lines, minus the
    harmless CPU-only ones) followed by its last non-table lines; each cut to 400 characters."""
    lines = tail(path, 2000).splitlines()
    errors = [ln[:400] for ln in lines
              if (_GLOG_ERROR.match(ln) or ln.startswith("error:"))
              and not any(h in ln for h in _HARMLESS)]
    plain = [ln[:400] for ln in lines if ln.strip() and not ln.startswith(("|", "+"))]
    picked = errors[-max_errors:]
    picked += [ln for ln in plain[-last:] if ln not in picked]
    return "\n".join(picked)


def _python_env_dirs() -> set[str]:
    tmp = Path("/tmp")
    return {p.name for p in tmp.glob("python_env_*")} if tmp.is_dir() else set()


class EmbeddedTriton:
    """A private ``tritonserver`` process serving ``repo_dir``; a context manager.

    ``work_dir``: where backends and the log go; when ``None``, a fresh temp dir that
    :meth:`stop` removes (after a failed start only its log is kept, for the operator).
    ``models``: load only these (Triton's explicit model control); ``None`` loads every model
    in the repository. ``startup_timeout_s`` bounds the wait for the models to load;
    ``stop_timeout_s`` the graceful part of :meth:`stop`. After :meth:`start`, ``startup_s``
    holds the measured startup time.
    """

    def __init__(self, repo_dir: Path, work_dir: Path | None = None, *,
                 models: Sequence[str] | None = None, startup_timeout_s: float = 60.0,
                 stop_timeout_s: float = 10.0, log_verbose: int = 0) -> None:
        self.repo_dir = Path(repo_dir).resolve()
        self.models = tuple(models) if models is not None else None
        self._own_work_dir = work_dir is None
        self.work_dir = Path(work_dir).resolve() if work_dir is not None else None
        self.startup_timeout_s, self.stop_timeout_s = startup_timeout_s, stop_timeout_s
        self.log_verbose = log_verbose
        self.http_port = self.grpc_port = self.metrics_port = 0
        self.startup_s: float | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._shm_prefix = ""
        self._new_python_envs: set[str] = set()
        self._lock_fd: int | None = None

    # -- addresses -----------------------------------------------------------------------------
    @property
    def grpc_url(self) -> str:
        return f"grpc://127.0.0.1:{self.grpc_port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    @property
    def log_path(self) -> Path:
        if self.work_dir is None:
            raise RuntimeError("not started")
        return self.work_dir / LOG_NAME

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def shm_prefix(self) -> str:
        """Prefix of the python backend's shared-memory regions in /dev/shm."""
        return self._shm_prefix

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle -----------------------------------------------------------------------------
    def _prepare_backends(self, dist: TritonDistribution, work: Path) -> Path:
        backends = work / "backends"
        python_dir = backends / "python"
        if python_dir.exists():
            shutil.rmtree(python_dir)
        # Copies, not links: Triton requires the stub next to libtriton_python.so.
        shutil.copytree(dist.python_backend, python_dir,
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy2(dist.stub, python_dir / "triton_python_backend_stub")
        runner_dir = backends / RUNNER_BACKEND_NAME
        runner_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(RUNNER_SOURCE, runner_dir / "model.py")
        return backends

    def _environment(self, dist: TritonDistribution) -> dict[str, str]:
        env = dict(os.environ)
        libs = [str(Path(sys.base_prefix) / "lib"), str(dist.libs)]
        if env.get("LD_LIBRARY_PATH"):
            libs.append(env["LD_LIBRARY_PATH"])
        env["LD_LIBRARY_PATH"] = os.pathsep.join(libs)
        env["PATH"] = os.pathsep.join([str(Path(sys.prefix) / "bin"), env.get("PATH", "")])
        return env

    def _command(self, dist: TritonDistribution, backends: Path) -> list[str]:
        cmd = [
            str(dist.binary),
            f"--model-repository={self.repo_dir}",
            f"--backend-directory={backends}",
            "--http-address=127.0.0.1", "--grpc-address=127.0.0.1",
            "--metrics-address=127.0.0.1",
            f"--http-port={self.http_port}", f"--grpc-port={self.grpc_port}",
            f"--metrics-port={self.metrics_port}",
            # Half the stop timeout: Triton's own drain ends well before our SIGKILL.
            f"--exit-timeout-secs={max(1, int(self.stop_timeout_s / 2))}",
            "--strict-readiness=true",
            # CPU only: skip CUDA pools and GPU metrics (faster start, fewer scary log lines).
            "--allow-gpu-metrics=false", "--pinned-memory-pool-byte-size=0",
            "--cuda-memory-pool-byte-size=0:0",
            f"--backend-config=python,shm-region-prefix-name={self._shm_prefix}",
            f"--log-verbose={self.log_verbose}",
        ]
        if self.models is not None:
            cmd.append("--model-control-mode=explicit")
            cmd += [f"--load-model={name}" for name in self.models]
        return cmd

    def start(self) -> EmbeddedTriton:
        """Start the server and wait until every model is ready.

        Raises ServiceUnavailable (with the log tail) when it exits or is not ready in time,
        FileNotFoundError when the repository or the Triton distribution is missing.
        """
        if self.running:
            return self
        if not self.repo_dir.is_dir():
            raise FileNotFoundError(f"model repository {self.repo_dir} does not exist")
        dist = find_distribution()
        if dist.missing():
            raise FileNotFoundError(f"Triton distribution incomplete, missing: {dist.missing()}")
        if self.work_dir is None:
            self.work_dir = Path(tempfile.mkdtemp(prefix="kouan-triton-"))
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._lock_work_dir(self.work_dir)
        backends = self._prepare_backends(dist, self.work_dir)
        failure = ""
        # Two tries: a port picked by free_ports() can be taken by someone else before Triton binds.
        for attempt in (1, 2):
            self.http_port, self.grpc_port, self.metrics_port = free_ports(3)
            self._shm_prefix = f"kouan_{os.getpid()}_{uuid.uuid4().hex[:8]}_"
            failure = self._launch(dist, backends)
            if not failure:
                return self
            failure = f"{failure}; log {self.log_path}:\n{log_summary(self.log_path)}"
            if attempt == 1 and "Address already in use" in tail(self.log_path, 200):
                log.warning("embedded Triton: port taken, retrying with new ports")
                continue
            break
        self._terminate()
        self._unlock_work_dir()
        if self._own_work_dir:
            # Keep the temp work dir's log for the operator; drop the 3 MB of backend copies.
            shutil.rmtree(backends, ignore_errors=True)
            self.work_dir = None  # a later start() makes a fresh one
        raise ServiceUnavailable(failure)

    def _launch(self, dist: TritonDistribution, backends: Path) -> str:
        """Start the process and wait for readiness; '' on success, else why it failed (the
        process is then stopped)."""
        t0 = time.monotonic()
        before = _python_env_dirs()
        with self.log_path.open("wb") as log_file:
            proc = subprocess.Popen(
                self._command(dist, backends), cwd=self.work_dir, env=self._environment(dist),
                stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: the stubs die with the server
            )
        self._proc = proc
        log.info("embedded Triton pid %d starting (log %s)", proc.pid, self.log_path)
        try:
            failure = self._wait_ready(proc, t0)
        finally:
            self._new_python_envs |= _python_env_dirs() - before
        if failure:
            self._terminate()
            return failure
        self.startup_s = time.monotonic() - t0
        log.info("embedded Triton ready in %.2fs: %s %s", self.startup_s, self.grpc_url,
                 self.http_url)
        return ""

    def _wait_ready(self, proc: subprocess.Popen[bytes], t0: float) -> str:
        url = f"{self.http_url}/v2/health/ready"
        # Loopback: never go through an http_proxy from the environment.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        while True:
            code = proc.poll()
            if code is not None:
                return f"embedded Triton exited with code {code} during startup"
            try:
                with opener.open(url, timeout=1.0) as resp:
                    if resp.status == 200:
                        return ""
            except (urllib.error.URLError, OSError):
                pass  # not listening yet, or models still loading (HTTP 400)
            if time.monotonic() - t0 > self.startup_timeout_s:
                return f"embedded Triton not ready after {self.startup_timeout_s:g}s"
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after ``stop_timeout_s``) and clean up; a work
        dir this object created is removed. Safe to call twice."""
        self._terminate()
        self._unlock_work_dir()
        if self._own_work_dir and self.work_dir is not None:
            shutil.rmtree(self.work_dir, ignore_errors=True)
            self.work_dir = None

    def _lock_work_dir(self, work: Path) -> None:
        """Hold an exclusive lock on ``<work>/.lock`` while running: two servers in one work dir
        would overwrite each other's backends and log. The OS drops it if this process dies."""
        fd = os.open(work / ".lock", os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise KouanError(f"another embedded Triton is running in {work}; stop it or use "
                             f"another work dir") from None
        self._lock_fd = fd

    def _unlock_work_dir(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing releases the flock
            self._lock_fd = None

    def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            self._signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=self.stop_timeout_s)
            except subprocess.TimeoutExpired:
                log.warning("embedded Triton pid %d ignored SIGTERM; killing it", proc.pid)
                self._signal_group(proc, signal.SIGKILL)
                proc.wait(timeout=10)
        # Stubs in the server's process group can outlive a killed server for a moment.
        self._signal_group(proc, signal.SIGKILL)
        self._cleanup_after_exit()

    @staticmethod
    def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)  # the group we created with start_new_session

    def _cleanup_after_exit(self) -> None:
        """Remove what the python backend leaves when it does not shut down gracefully."""
        if self._shm_prefix:
            for region in Path("/dev/shm").glob(f"{self._shm_prefix}*"):
                region.unlink(missing_ok=True)
        for name in self._new_python_envs:
            path = Path("/tmp") / name
            # Only folders that appeared while *this* server started, and only if empty (they
            # are unless EXECUTION_ENV_PATH is used), so a concurrent server is never harmed.
            with contextlib.suppress(OSError):
                path.rmdir()
        self._new_python_envs.clear()

    def __enter__(self) -> EmbeddedTriton:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
