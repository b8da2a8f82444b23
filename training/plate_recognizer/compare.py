"""Compare Mongolian plate recognisers (ONNX files) on a synthetic held-out set, side by side.

::

    python -m training.plate_recognizer.compare \\
        serving/model_repository/plate_rec_mn/4/model.onnx var/mn/v5/model.onnx \\
        --n 2048 --seed 2000003 --cache-dir var/mn/cache_v7 --json var/mn/compare.json

Each model reads the same generated lines (``datasets.plates_mn``, fully determined by ``--n``
and ``--seed``; use seeds the training run never drew: training uses ``seed`` and
``seed + 1000003``) two ways: greedy CTC on the line as is (what ``train.py`` reports) and the
gate's decoding - the test-time shifts of :data:`vision.plates.mn_rec.MN_TTA_SHIFTS` averaged,
then the plate grammar (:func:`vision.plates.reading.read_mn`). Exact-match rates, the mean
confidence of right and wrong gate readings, and the most frequent character confusions go to
stdout and ``--json``.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from tqdm import tqdm

from training.plate_recognizer.train import build_set
from vision.ocr_ctc import ctc_greedy_decode
from vision.plates.ctc_constrained import CharsetIndex
from vision.plates.mn_rec import MN_CHARSET, MN_TTA_SHIFTS, mn_merge_shifts, mn_shifted
from vision.plates.reading import read_mn

BATCH = 64


def _confusions(pairs: Sequence[tuple[str, str | None]]) -> list[tuple[str, int]]:
    """``truth->read`` character substitutions of same-length misreads, most frequent first."""
    c: Counter[str] = Counter()
    for truth, read in pairs:
        if read is not None and read != truth and len(read) == len(truth):
            c.update(f"{a}->{b}" for a, b in zip(truth, read, strict=True) if a != b)
    return c.most_common(8)


def score_model(model: Path, x: npt.NDArray[np.float32], texts: Sequence[str],
                threads: int = 1) -> dict[str, Any]:
    """Greedy and gate-decoding exact match of ``model`` on preprocessed lines ``x``
    (float32 ``[N, 1, 32, 128]``) with ground-truth ``texts``."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    sess = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
    cs = CharsetIndex(MN_CHARSET)
    greedy_ok = 0
    pairs: list[tuple[str, str | None]] = []
    conf_right: list[float] = []
    conf_wrong: list[float] = []
    for i in tqdm(range(0, len(texts), BATCH), desc=model.parent.name, unit="batch",
                  leave=False):
        xb, tb = x[i:i + BATCH], texts[i:i + BATCH]
        plain = sess.run(None, {"x": xb})[0]
        greedy_ok += sum(d.text == t for d, t in zip(ctc_greedy_decode(plain, MN_CHARSET), tb,
                                                      strict=True))
        merged = mn_merge_shifts(sess.run(None, {"x": mn_shifted(xb)})[0], len(MN_TTA_SHIFTS))
        for probs, truth in zip(merged, tb, strict=True):
            r = read_mn(probs, cs, 1)
            pairs.append((truth, r.text if r else None))
            if r is not None:
                (conf_right if r.text == truth else conf_wrong).append(r.confidence)
    n = len(texts)
    return {"model": str(model), "n": n, "greedy_exact": greedy_ok / n,
            "gate_exact": sum(t == r for t, r in pairs) / n,
            "mean_confidence_right": float(np.mean(conf_right)) if conf_right else None,
            "mean_confidence_wrong": float(np.mean(conf_wrong)) if conf_wrong else None,
            "top_confusions": _confusions(pairs)}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("models", type=Path, nargs="+", help="ONNX files (plate_rec_mn interface)")
    p.add_argument("--n", type=int, default=2048, help="synthetic lines")
    p.add_argument("--seed", type=int, default=2_000_003, help="generator seed of the set")
    p.add_argument("--cache-dir", type=Path, default=None, help="reuse / keep the set (npz)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", type=Path, default=None, help="write the results here")
    a = p.parse_args(argv)
    missing = [m for m in a.models if not m.is_file()]
    if missing or a.n < 1:
        p.error(f"no such model file: {missing}" if missing else "--n must be >= 1")
    x, texts = build_set(a.n, a.seed, a.cache_dir)
    results = [score_model(m, x, texts, a.threads) for m in a.models]
    for r in results:
        conf = r["mean_confidence_right"]
        print(f"{r['model']}: gate {r['gate_exact']:.2%}  greedy {r['greedy_exact']:.2%}  "
              f"conf right {'-' if conf is None else f'{conf:.3f}'}  "
              f"top {r['top_confusions'][:4]}")
    if a.json is not None:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps({"n": a.n, "seed": a.seed, "results": results}, indent=1,
                                     ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
