"""Where the shared real sample data lives (``../shared/realdata`` beside the checkout).

Tests, benchmarks and the demo all ask here, so a clone in any folder finds the same data:
``$REALDATA_DIR`` when set, else ``shared/realdata`` next to the checkout or the working
directory, else the machine-wide ``/work/shared/realdata``.
"""

from __future__ import annotations

import os
from pathlib import Path

MACHINE_DEFAULT = Path("/work/shared/realdata")


def realdata_candidates() -> list[Path]:
    env = os.environ.get("REALDATA_DIR")
    checkout = Path(__file__).resolve().parents[1]
    found = [Path(env)] if env else []
    found += [checkout.parent / "shared" / "realdata", Path.cwd().parent / "shared" / "realdata",
              MACHINE_DEFAULT]
    return found


def realdata_dir() -> Path:
    """The real-data root; ``FileNotFoundError`` naming every place looked at when absent."""
    candidates = realdata_candidates()
    for c in candidates:
        if c.is_dir():
            return c
    raise FileNotFoundError("real sample data not found; set REALDATA_DIR (looked in: "
                            + ", ".join(str(c) for c in candidates) + ")")
