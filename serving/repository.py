"""The Triton model repository on disk: ``<repo>/<model>/config.pbtxt`` + ``<model>/<version>/``.

The committed repository is ``serving/model_repository`` (:func:`default_repository`). Large
artefacts that ship inside a Python wheel are not committed; :mod:`serving.bundled` copies them
into place (checksum-verified) before Triton starts.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from serving.model_config import ModelSpec, render_config

_DEFAULT_FILENAME = re.compile(r'^\s*default_model_filename:\s*"([^"]+)"', re.MULTILINE)


def default_repository() -> Path:
    """The repository committed with the code (``serving/model_repository``)."""
    return Path(__file__).resolve().parent / "model_repository"


def model_names(repo: Path) -> list[str]:
    """Sorted names of the model folders (those holding a ``config.pbtxt``)."""
    if not repo.is_dir():
        raise FileNotFoundError(f"model repository {repo} does not exist")
    return sorted(p.name for p in repo.iterdir() if (p / "config.pbtxt").is_file())


def versions(model_dir: Path) -> list[int]:
    """Numbered version folders of one model, ascending."""
    return sorted(int(p.name) for p in model_dir.iterdir() if p.is_dir() and p.name.isdigit())


def model_filename(model_dir: Path) -> str:
    """``default_model_filename`` from the model's config (``model.onnx`` when absent)."""
    match = _DEFAULT_FILENAME.search((model_dir / "config.pbtxt").read_text(encoding="utf-8"))
    return match.group(1) if match else "model.onnx"


def missing_model_files(repo: Path) -> list[Path]:
    """Model files Triton would need but that are not there: for every model, the file named by
    its config in its newest version folder (Triton's default version policy serves the newest).
    A model without any version folder is reported as ``<model>/1/<file>``."""
    missing = []
    for name in model_names(repo):
        model_dir = repo / name
        found = versions(model_dir)
        target = model_dir / str(found[-1] if found else 1) / model_filename(model_dir)
        if not target.is_file():
            missing.append(target)
    return missing


def write_config(repo: Path, spec: ModelSpec) -> Path:
    """Write ``<repo>/<spec.name>/config.pbtxt`` rendered from ``spec``; returns its path."""
    path = repo / spec.name / "config.pbtxt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_config(spec), encoding="utf-8")
    return path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def copy_verified(source: Path, target: Path, sha256: str) -> Path:
    """Copy ``source`` to ``target`` atomically after checking its SHA-256.

    Does nothing when ``target`` already has the expected digest. Raises ``ValueError`` when the
    source's digest differs (a different package version than the one this code was built for).
    """
    if target.is_file() and sha256_file(target) == sha256:
        return target
    actual = sha256_file(source)
    if actual != sha256:
        raise ValueError(f"{source}: sha256 {actual} != expected {sha256}")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a Triton under another user must read it
        os.replace(tmp, target)  # readers never see a half-written model
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target
