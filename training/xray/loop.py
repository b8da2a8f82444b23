"""The per-worker training loop (Ray Train ``train_loop_per_worker``, or run in-process).

Rank 0 owns the run folder: ``checkpoints/last.pt`` every epoch, ``checkpoints/best.pt`` on a
better val mAP50, ``progress.jsonl`` (one JSON line per epoch) and ``train.log``. With N
workers, every worker reads its own shard (``DistributedSampler`` from
``ray.train.torch.prepare_data_loader``), starts from rank 0's weights and averages gradients
with ``all_reduce`` after each backward pass (DDP semantics without wrapping the module, whose
``forward`` is the inference signature); early stopping is decided on rank 0 and broadcast.

The learning rate follows a linear warm-up then a cosine decay over the *progress* of the run,
``max(step / planned_steps, elapsed / max_minutes)``, so a wall-clock budget still ends
with a small learning rate however busy the machine is.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from training.xray.config import TrainConfig
from training.xray.data import (
    AugmentOptions,
    DetectionDataset,
    load_backgrounds,
    load_coco,
    load_rgb,
)
from training.xray.from_onnx import detector_from_onnx, onnx_classes
from training.xray.metrics import coco_map
from training.xray.model import STRIDE, DetectorSpec, build_detector
from training.xray.predict import predict_images, torch_scorer
from training.xray.targets import box_loss, focal_loss
from training.xray.tip import Sprite, sprite_bank

log = logging.getLogger(__name__)
BOX_LOSS_WEIGHT = 5.0


class Reporter(Protocol):
    """Where a worker reports epoch metrics and checkpoints (Ray Train or nothing)."""

    rank: int
    world_size: int

    def report(self, metrics: dict[str, Any], checkpoint_dir: Path | None) -> None: ...

    def prepare_loader(self, loader: DataLoader[Any]) -> DataLoader[Any]: ...

    def resume_dir(self) -> Path | None: ...


class LocalReporter:
    """In-process single worker (tests, notebooks)."""

    rank = 0
    world_size = 1

    def report(self, metrics: dict[str, Any], checkpoint_dir: Path | None) -> None:
        del metrics, checkpoint_dir

    def prepare_loader(self, loader: DataLoader[Any]) -> DataLoader[Any]:
        return loader

    def resume_dir(self) -> Path | None:
        return None


def split_items(cfg: TrainConfig) -> tuple[Any, list[Any], list[Any]]:
    """(CocoSet used for val scoring, train items, val items)."""
    train_set = load_coco(cfg.data)
    if cfg.val_data is not None:
        val_set = load_coco(cfg.val_data)
        if val_set.classes != train_set.classes:
            raise ValueError(f"val classes {val_set.classes} differ from {train_set.classes}")
        return val_set, list(train_set.images), list(val_set.images)
    rng = np.random.default_rng(cfg.seed)
    order = rng.permutation(len(train_set.images))
    n_val = max(1, int(round(cfg.val_fraction * len(order))))
    val = [train_set.images[i] for i in sorted(order[:n_val])]
    train = [train_set.images[i] for i in sorted(order[n_val:])]
    return train_set, train, val


def sprites_for(cfg: TrainConfig, classes: tuple[str, ...], cache: Path) -> list[Sprite]:
    """TIP sprite bank for the threat classes (cached as ``sprites.npz`` in the run folder)."""
    from datasets.synth.threats import THREAT_CLASSES

    if cfg.tip_per_label == 0:
        return []
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            labels = [str(v) for v in z["labels"]]
            return [Sprite(np.asarray(z[f"s{i}"]), labels[i]) for i in range(len(labels))]
    labels_t = tuple(c for c in classes if c in THREAT_CLASSES)
    bank = sprite_bank(labels_t, cfg.tip_per_label, 75.0 / 320.0, cfg.seed)
    cache.parent.mkdir(parents=True, exist_ok=True)
    with open(cache, "wb") as fh:
        np.savez_compressed(fh, labels=np.array([s.label for s in bank]),
                            **{f"s{i}": s.rgb for i, s in enumerate(bank)})
    return bank


def lr_factor(step: int, planned: int, elapsed_s: float, cfg: TrainConfig) -> float:
    if step < cfg.warmup_steps:
        return (step + 1) / cfg.warmup_steps
    progress = step / max(planned, 1)
    if cfg.max_minutes:
        progress = max(progress, elapsed_s / (cfg.max_minutes * 60.0))
    return 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def save_checkpoint(path: Path, model: torch.nn.Module, opt: torch.optim.Optimizer,
                    state: dict[str, Any], spec: DetectorSpec, classes: tuple[str, ...],
                    cfg: TrainConfig) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "state": state,
                "spec": {"num_classes": spec.num_classes, "widths": list(spec.widths),
                         "neck_width": spec.neck_width},
                "classes": list(classes), "size": cfg.size,
                "config": json.loads(cfg.model_dump_json())}, tmp)
    tmp.replace(path)


def load_checkpoint(path: Path) -> dict[str, Any]:
    ck: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=False)
    return ck


def fresh_state() -> dict[str, Any]:
    """Training progress before the first step (saved in every checkpoint)."""
    return {"epoch": 0, "step": 0, "best_map50": -1.0, "bad_epochs": 0, "elapsed_s": 0.0}


def run_from_version(onnx_path: Path, cfg: TrainConfig) -> Path:
    """Write ``cfg.out/checkpoints/best.pt`` holding an exported version's weights, so
    ``kouan train eval`` and ``kouan export`` take it like a trained run (e.g. to export a
    served version again with test-time augmentation in the graph). Its eval-mode output equals
    the ONNX model's for any calibration batch (:mod:`training.xray.from_onnx`), so random images
    calibrate; ``cfg`` names the data the version was trained and evaluated with. Returns the
    checkpoint path."""
    classes = onnx_classes(onnx_path)
    if classes is None:
        raise ValueError(f"{onnx_path} has no card.json beside it (class names unknown)")
    spec = DetectorSpec(len(classes), cfg.widths, cfg.neck_width)
    g = torch.Generator().manual_seed(cfg.seed)
    calibration = torch.randint(0, 256, (8, 3, cfg.size, cfg.size), dtype=torch.uint8,
                                generator=g)
    model = detector_from_onnx(onnx_path, spec, calibration).eval()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    path = cfg.out / "checkpoints" / "best.pt"
    save_checkpoint(path, model, opt, fresh_state(), spec, tuple(classes), cfg)
    return path


def initial_weights(path: Path, spec: DetectorSpec, classes: tuple[str, ...],
                    train_ds: DetectionDataset) -> dict[str, Any]:
    """State dict to fine-tune from: a run's checkpoint (``.pt``) or an exported model version
    (``.onnx``, BatchNorms rebuilt on 32 training images, see :mod:`training.xray.from_onnx`)."""
    if path.suffix == ".onnx":
        trained_on = onnx_classes(path)
        calibration = torch.stack([train_ds[i][0] for i in range(min(32, len(train_ds)))])
        state: dict[str, Any] = detector_from_onnx(path, spec, calibration).state_dict()
    else:
        ck = load_checkpoint(path)
        trained_on, state = list(ck["classes"]), ck["model"]
    if trained_on is not None and list(trained_on) != list(classes):
        raise ValueError(f"{path} was trained on {trained_on}, data has {list(classes)}")
    return state


def spec_from(ck: dict[str, Any]) -> DetectorSpec:
    s = ck["spec"]
    return DetectorSpec(int(s["num_classes"]), tuple(s["widths"]), int(s["neck_width"]))


def evaluate_subset(model: torch.nn.Module, val_set: Any, items: list[Any], size: int,
                    classes: tuple[str, ...]) -> dict[str, Any]:
    images = (load_rgb(it.path) for it in items)
    preds = predict_images(torch_scorer(model), images, size, batch_size=8)
    return coco_map(val_set.annotation_file, [it.image_id for it in items], preds, classes)


def _broadcast_stop(stop: bool, world_size: int) -> bool:
    if world_size == 1:
        return stop
    import torch.distributed as dist

    t = torch.tensor([1 if stop else 0])
    dist.broadcast(t, src=0)
    return bool(t.item())


def train_loader(train_ds: Dataset[Any], cfg: TrainConfig) -> DataLoader[Any]:
    """Shuffled training batches; ``cfg.loader_workers`` processes augment in parallel.

    Workers are started afresh each epoch (not persistent): a persistent worker keeps the copy
    of the dataset it forked with, so ``set_epoch`` in this process would never reach it and
    every epoch would replay the first epoch's augmentations."""
    return DataLoader(
        train_ds, batch_size=cfg.batch_size, shuffle=True,
        drop_last=len(train_ds) > cfg.batch_size,  # type: ignore[arg-type]
        num_workers=cfg.loader_workers, persistent_workers=False,
        generator=torch.Generator().manual_seed(cfg.seed))


def train_loop(cfg: TrainConfig, reporter: Reporter,
               progress: Callable[[int, dict[str, float]], None] | None = None) -> dict[str, Any]:
    """Train until epochs, max_steps, max_minutes or early stopping; returns the summary."""
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    out = cfg.out
    val_set, train_items, val_items = split_items(cfg)
    classes = val_set.classes
    spec = DetectorSpec(len(classes), cfg.widths, cfg.neck_width)
    detector = build_detector(spec)
    model: torch.nn.Module = detector
    sprites = sprites_for(cfg, classes, out / "sprites.npz")
    backgrounds = load_backgrounds(cfg.real_backgrounds) if cfg.real_backgrounds else []
    aug = AugmentOptions(cfg.augment_strength, cfg.p_attenuation, cfg.p_tip,
                         cfg.p_real_background)
    train_ds = DetectionDataset(train_items, classes, cfg.size, aug, sprites, backgrounds,
                                seed=cfg.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    state = fresh_state()
    resume = reporter.resume_dir()
    last = out / "checkpoints" / "last.pt"
    if resume is not None and (resume / "last.pt").is_file():
        last = resume / "last.pt"
    if cfg.resume and last.is_file():
        ck = load_checkpoint(last)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        state.update(ck["state"])
        log.info("resumed from %s at epoch %d step %d", last, state["epoch"], state["step"])
    elif cfg.init_from is not None:
        model.load_state_dict(initial_weights(cfg.init_from, spec, classes, train_ds))
        log.info("fine-tuning from %s", cfg.init_from)
    if reporter.world_size > 1:
        _broadcast_params(model)
    loader = reporter.prepare_loader(train_loader(train_ds, cfg))
    planned = cfg.epochs * max(len(loader), 1)
    if cfg.max_steps is not None:
        planned = min(planned, cfg.max_steps)
    t_start = time.monotonic() - float(state["elapsed_s"])
    summary: dict[str, Any] = {"stopped": "epochs"}
    eval_items = val_items[: cfg.val_limit]
    while state["epoch"] < cfg.epochs:
        epoch = int(state["epoch"])
        train_ds.set_epoch(epoch)
        set_epoch = getattr(getattr(loader, "sampler", None), "set_epoch", None)
        if callable(set_epoch):
            set_epoch(epoch)
        model.train()
        sums = {"loss": 0.0, "hm": 0.0, "box": 0.0}
        n_batches = 0
        stop_reason = ""
        for images, heat, box_t, box_w in loader:
            f = lr_factor(int(state["step"]), planned, time.monotonic() - t_start, cfg)
            for g in opt.param_groups:
                g["lr"] = cfg.lr * f
            x = images.to(torch.float32) / 255.0
            logits, ltrb = detector.forward_raw(x)
            l_hm = focal_loss(logits, heat)
            l_box = box_loss(ltrb, box_t, box_w, STRIDE)
            loss = l_hm + BOX_LOSS_WEIGHT * l_box
            opt.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            if reporter.world_size > 1:
                _allreduce_grads(model)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
            opt.step()
            state["step"] += 1
            n_batches += 1
            sums["loss"] += loss.item()
            sums["hm"] += l_hm.item()
            sums["box"] += l_box.item()
            if progress is not None and reporter.rank == 0:
                progress(1, {"loss": loss.item(), "lr": cfg.lr * f})
            if cfg.max_steps is not None and state["step"] >= cfg.max_steps:
                stop_reason = "max_steps"
                break
            if cfg.max_minutes and time.monotonic() - t_start > cfg.max_minutes * 60:
                stop_reason = "max_minutes"
                break
        state["epoch"] = epoch + 1
        state["elapsed_s"] = time.monotonic() - t_start
        metrics: dict[str, Any] = {k: v / max(n_batches, 1) for k, v in sums.items()}
        metrics.update(epoch=epoch + 1, step=int(state["step"]),
                       elapsed_s=round(state["elapsed_s"], 1))
        checkpoint_dir = None
        stop = bool(stop_reason)
        if reporter.rank == 0:
            ev = evaluate_subset(model, val_set, eval_items, cfg.size, classes)
            metrics.update(val_mAP50=ev["mAP50"], val_mAP50_95=ev["mAP50_95"],
                           val_AP50={k: round(v["AP50"], 4) for k, v in
                                     ev["per_class"].items()})
            improved = ev["mAP50"] > state["best_map50"]
            if improved:
                state["best_map50"], state["bad_epochs"] = ev["mAP50"], 0
            else:
                state["bad_epochs"] += 1
            ck_dir = out / "checkpoints"
            save_checkpoint(ck_dir / "last.pt", model, opt, state, spec, classes, cfg)
            if improved:
                save_checkpoint(ck_dir / "best.pt", model, opt, state, spec, classes, cfg)
            checkpoint_dir = ck_dir
            with open(out / "progress.jsonl", "a", encoding="utf-8") as fh:
                fh.write(json.dumps(metrics) + "\n")
            log.info("epoch %d: %s", epoch + 1, json.dumps(metrics))
            if state["bad_epochs"] >= cfg.patience:
                stop_reason = stop_reason or "early_stopping"
                stop = True
        reporter.report(metrics, checkpoint_dir)
        if _broadcast_stop(stop, reporter.world_size):
            summary["stopped"] = stop_reason or "early_stopping"
            break
    summary.update(epochs=int(state["epoch"]), steps=int(state["step"]),
                   best_val_mAP50=float(state["best_map50"]),
                   elapsed_s=round(float(state["elapsed_s"]), 1))
    return summary


def _broadcast_params(model: torch.nn.Module) -> None:
    import torch.distributed as dist

    for t in model.state_dict().values():
        dist.broadcast(t, src=0)


def _allreduce_grads(model: torch.nn.Module) -> None:
    """Average gradients over workers (when the model is not DDP-wrapped)."""
    import torch.distributed as dist

    world = dist.get_world_size()
    for p in model.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad /= world

