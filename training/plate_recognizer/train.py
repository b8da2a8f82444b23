"""Train the Mongolian plate CRNN on synthetic plates and export it to ONNX for Triton.

::

    python -m training.plate_recognizer.train --steps 8000 --samples 30000 --seed 0 \\
        --out serving/model_repository/plate_rec_mn/3/model.onnx \\
        --real ../shared/realdata/plates_cn

Everything is seeded (data, initialisation, batch order); CPU only. ``--real`` evaluates the
exported model on the real Mongolian plate crops (ground-truth boxes) after training; those
images are never used for training. Metrics go to ``<out dir>/../training_metrics.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from datasets.plates_mn import GENERATOR_VERSION, generate
from training.plate_recognizer.model import PlateCRNN, WithSoftmax
from vision.ocr_ctc import ctc_greedy_decode
from vision.plates.mn_rec import MN_CHARSET, MN_INPUT_HEIGHT, MN_INPUT_WIDTH, mn_preprocess

log = logging.getLogger(__name__)
CHAR_INDEX = {c: i for i, c in enumerate(MN_CHARSET)}


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: int = Field(default=4000, ge=1, le=200_000, description="optimiser steps")
    samples: int = Field(default=16000, ge=16, le=500_000, description="synthetic training lines")
    batch_size: int = Field(default=64, ge=2, le=1024)
    lr: float = Field(default=2e-3, gt=0, le=1.0, description="peak AdamW learning rate")
    seed: int = Field(default=0, ge=0)
    threads: int = Field(default=1, ge=1, le=64,
                         description="torch intra-op threads (1 on a shared 2-core box: 2 "
                         "threads were 5-10x slower under contention)")
    val_samples: int = Field(default=512, ge=0, le=50_000, description="held-out synthetic lines")
    cache_dir: Path | None = Field(default=None, description="keep generated sets here (npz)")


def encode(text: str) -> list[int]:
    try:
        return [CHAR_INDEX[c] for c in text]
    except KeyError as exc:
        raise ValueError(f"character {exc.args[0]!r} of {text!r} is not in MN_CHARSET") from None


def build_set(n: int, seed: int, cache_dir: Path | None = None
              ) -> tuple[npt.NDArray[np.float32], list[str]]:
    """``n`` synthetic lines, preprocessed: float32 ``[n, 1, 32, 128]`` and their texts.

    With ``cache_dir`` the set is kept in ``<cache_dir>/mn_g<generator version>_<n>_<seed>.npz``
    (generation is the slow part and is fully determined by the generator, ``n`` and ``seed``).
    """
    name = f"mn_g{GENERATOR_VERSION}_{n}_{seed}.npz"
    cache = cache_dir / name if cache_dir is not None else None
    if cache is not None and cache.is_file():
        with np.load(cache) as z:
            return z["x"].astype(np.float32), [str(t) for t in z["texts"]]
    x = np.empty((n, 1, MN_INPUT_HEIGHT, MN_INPUT_WIDTH), dtype=np.float32)
    texts = []
    for i, s in enumerate(itertools.islice(generate(seed), n)):
        x[i] = mn_preprocess(s.image)
        texts.append(s.text)
    x = x.astype(np.float16).astype(np.float32)  # what the cache holds: same data either way
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(cache, x=x.astype(np.float16), texts=np.array(texts))
    return x, texts


def _jitter(batch: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Shift each line by up to 4 columns / 2 rows (localisation never lands twice alike)."""
    out = torch.empty_like(batch)
    for i in range(batch.shape[0]):
        dx = int(torch.randint(-4, 5, (1,), generator=g))
        dy = int(torch.randint(-2, 3, (1,), generator=g))
        out[i] = torch.roll(batch[i], shifts=(dy, dx), dims=(1, 2))
    return out


def accuracy(model: nn.Module, x: npt.NDArray[np.float32], texts: Sequence[str]) -> float:
    if not texts:
        return float("nan")
    model.eval()
    with torch.no_grad():
        probs = torch.softmax(model(torch.from_numpy(x)), dim=-1).numpy()
    decoded = ctc_greedy_decode(probs, MN_CHARSET)
    return float(np.mean([d.text == t for d, t in zip(decoded, texts, strict=True)]))


def train(cfg: TrainConfig) -> tuple[PlateCRNN, dict[str, Any]]:
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    t0 = time.monotonic()
    x, texts = build_set(cfg.samples, cfg.seed, cfg.cache_dir)
    vx, vtexts = build_set(cfg.val_samples, cfg.seed + 1_000_003, cfg.cache_dir) if (
        cfg.val_samples) else (x[:0], [])
    gen_s = time.monotonic() - t0
    targets = [torch.tensor(encode(t), dtype=torch.long) for t in texts]
    model = PlateCRNN(len(MN_CHARSET))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.steps,
                                                pct_start=0.15)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    g = torch.Generator().manual_seed(cfg.seed)
    xt = torch.from_numpy(x)
    losses: list[float] = []
    model.train()
    for step in range(cfg.steps):
        idx = torch.randint(0, len(texts), (cfg.batch_size,), generator=g)
        batch = _jitter(xt[idx], g)
        logp = torch.log_softmax(model(batch), dim=-1).transpose(0, 1)  # [T, N, C]
        tgt = [targets[int(i)] for i in idx]
        loss = ctc(logp, torch.cat(tgt), torch.full((cfg.batch_size,), logp.shape[0],
                                                     dtype=torch.long),
                   torch.tensor([len(t) for t in tgt], dtype=torch.long))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if step % 50 == 0 or step == cfg.steps - 1:
            log.info("step %d loss %.4f", step, float(np.mean(losses[-50:])))
    metrics = {
        "config": cfg.model_dump(mode="json"),
        "generate_s": round(gen_s, 1),
        "train_s": round(time.monotonic() - t0 - gen_s, 1),
        "first_loss": losses[0],
        "final_loss": float(np.mean(losses[-50:])),
        "synthetic_val_exact": accuracy(model, vx, vtexts),
        "parameters": sum(p.numel() for p in model.parameters()),
        "torch": torch.__version__,
    }
    return model, metrics


def export_onnx(model: nn.Module, path: Path) -> Path:
    """ONNX with input ``x`` ``[N, 1, 32, 128]`` and output ``probs`` ``[N, 32, C]``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wrapped = WithSoftmax(model).eval()
    dummy = torch.zeros(1, 1, MN_INPUT_HEIGHT, MN_INPUT_WIDTH)
    torch.onnx.export(wrapped, (dummy,), str(path), input_names=["x"], output_names=["probs"],
                      dynamic_axes={"x": {0: "N"}, "probs": {0: "N"}}, opset_version=17,
                      dynamo=False)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=4000)
    p.add_argument("--samples", type=int, default=16000)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--val-samples", type=int, default=512)
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="keep the generated synthetic sets here (npz) for reruns")
    p.add_argument("--out", type=Path, required=True, help="ONNX file to write")
    p.add_argument("--real", type=Path, default=None,
                   help="realdata/plates_cn folder: evaluate on the real Mongolian crops")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    cfg = TrainConfig(steps=a.steps, samples=a.samples, batch_size=a.batch_size, lr=a.lr,
                      seed=a.seed, threads=a.threads, val_samples=a.val_samples,
                      cache_dir=a.cache_dir)
    model, metrics = train(cfg)
    export_onnx(model, a.out)
    if a.real is not None:
        from training.plate_recognizer.evaluate import evaluate_onnx_on_real

        metrics["real_mongolian"] = evaluate_onnx_on_real(a.out, a.real)
    (a.out.parent.parent / "training_metrics.json").write_text(
        json.dumps(metrics, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    log.info("metrics: %s", json.dumps({k: v for k, v in metrics.items() if k != "config"},
                                       ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
