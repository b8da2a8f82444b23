"""Find-and-read accuracy on generated Mongolian lane pictures, for choosing gate settings
without touching the real photos (which stay a test set).

::

    python -m pipelines.gate.evaluate_scenes --n 300 --seed 11 \\
        --json var/mn/scenes.json

Each picture (:func:`datasets.gate_scenes.mongolian_street_scene`: one plate turned, sheared
and perspective-warped in a cluttered scene) goes through the gate's
:class:`pipelines.gate.plates.PlateReader` in-process (ONNX Runtime on the served model
files, :class:`serving.onnx_local.OnnxRuntimeClient`). A picture counts as right when the best
plate's text is the generated one. Prints and writes the exact-match rate (also per row
layout), the found rate, milliseconds per picture and the first misses; run it before and
after a change to the reader to compare.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from datasets.gate_scenes import mongolian_street_scene
from pipelines.gate.ocr import GateOcr
from pipelines.gate.plates import PlateReader
from serving.bundled import prepare_repository
from serving.onnx_local import OnnxRuntimeClient


def evaluate(n: int, seed: int, threads: int = 1) -> dict[str, Any]:
    """Find-and-read results of the gate's plate reader on ``n`` generated pictures."""
    reader = PlateReader(GateOcr.from_repository(
        OnnxRuntimeClient(prepare_repository(), threads=threads)))
    rng = np.random.default_rng(seed)
    rs: list[dict[str, Any]] = []
    for _ in tqdm(range(n), desc="scenes", unit="pic"):
        image, _quad, text, nrows = mongolian_street_scene(rng)
        t = time.perf_counter()
        found = reader.read(image)
        ms = (time.perf_counter() - t) * 1000.0
        rs.append({"truth": text, "rows": nrows, "read": found[0].text if found else None,
                   "ms": ms})
    return {"n": n, "seed": seed,
            "exact": _rate(rs),
            "exact_one_row": _rate([r for r in rs if r["rows"] == 1]),
            "exact_two_row": _rate([r for r in rs if r["rows"] == 2]),
            "found": sum(r["read"] is not None for r in rs) / n,
            "ms_p50": float(np.median([r["ms"] for r in rs])),
            "misses": [(r["truth"], r["read"]) for r in rs if r["read"] != r["truth"]][:20]}


def _rate(rs: list[dict[str, Any]]) -> float | None:
    return sum(r["read"] == r["truth"] for r in rs) / len(rs) if rs else None


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=300, help="generated pictures")
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--threads", type=int, default=1, help="ONNX Runtime threads per model")
    p.add_argument("--json", type=Path, default=None, help="write the results here")
    a = p.parse_args(argv)
    if a.n < 1:
        p.error("--n must be >= 1")
    r = evaluate(a.n, a.seed, a.threads)
    print(f"exact {r['exact']:.1%} (one row {_pct(r['exact_one_row'])}, two rows "
          f"{_pct(r['exact_two_row'])}), found {r['found']:.1%}, p50 {r['ms_p50']:.0f} ms")
    if a.json is not None:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(r, indent=1, ensure_ascii=False) + "\n",
                          encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
