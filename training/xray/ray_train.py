"""Run :func:`training.xray.loop.train_loop` under Ray Train (``TorchTrainer``, gloo on CPU).

One worker on a local Ray; N workers on the cluster at ``RAY_ADDRESS``. Ray keeps its own copy
of every reported checkpoint under ``RUN_DIR/ray/``; a resumed run picks up Ray's latest
checkpoint when the run folder's own ``checkpoints/last.pt`` is not visible to the worker
(e.g. a worker on another node).
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Any

from torch.utils.data import DataLoader

from training.xray.config import TrainConfig

log = logging.getLogger(__name__)


class RayReporter:
    """:class:`training.xray.loop.Reporter` backed by ``ray.train``."""

    def __init__(self) -> None:
        import ray.train

        ctx = ray.train.get_context()
        self.rank = int(ctx.get_world_rank())
        self.world_size = int(ctx.get_world_size())
        self._resume_tmp: tempfile.TemporaryDirectory[str] | None = None

    def report(self, metrics: dict[str, Any], checkpoint_dir: Path | None) -> None:
        import ray.train

        flat = {k: v for k, v in metrics.items() if isinstance(v, int | float)}
        if checkpoint_dir is not None and self.rank == 0:
            with tempfile.TemporaryDirectory() as tmp:
                # only last.pt travels (best.pt stays in the run folder)
                (Path(tmp) / "last.pt").write_bytes((checkpoint_dir / "last.pt").read_bytes())
                ray.train.report(flat, checkpoint=ray.train.Checkpoint.from_directory(tmp))
        else:
            ray.train.report(flat)

    def prepare_loader(self, loader: DataLoader[Any]) -> DataLoader[Any]:
        import ray.train.torch

        if self.world_size == 1:
            return loader
        return ray.train.torch.prepare_data_loader(loader, move_to_device=False)

    def resume_dir(self) -> Path | None:
        import ray.train

        ck = ray.train.get_checkpoint()
        if ck is None:
            return None
        self._resume_tmp = tempfile.TemporaryDirectory()
        return Path(ck.to_directory(self._resume_tmp.name))


def _worker(config: dict[str, Any]) -> None:
    from tqdm import tqdm

    from training.xray.loop import train_loop

    cfg = TrainConfig.model_validate(config)
    reporter = RayReporter()
    bar = tqdm(desc="train", unit="step", disable=reporter.rank != 0, mininterval=5.0,
               total=cfg.max_steps)

    def progress(n: int, m: dict[str, float]) -> None:
        bar.update(n)
        bar.set_postfix(loss=f"{m['loss']:.3f}", lr=f"{m['lr']:.2e}", refresh=False)

    summary = train_loop(cfg, reporter, progress)
    bar.close()
    if reporter.rank == 0:
        (cfg.out / "train_summary.json").write_text(json.dumps(summary, indent=1) + "\n")


def run_ray_train(cfg: TrainConfig, ray_address: str | None = None) -> dict[str, Any]:
    """Train with Ray Train; starts a local Ray unless one is running (or ``ray_address``)."""
    import ray
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer

    started = False
    if not ray.is_initialized():
        # the dashboard serves the State API that Ray Train v2's placement-group cleaner polls
        # (without it every poll logs a warning)
        ray.init(address=ray_address, include_dashboard=True, log_to_driver=True,
                 configure_logging=False)
        started = True
    try:
        out = cfg.out.resolve()
        # workers run in another directory (or on another node): paths must be absolute
        absolute = cfg.model_copy(update={
            "out": out, "data": cfg.data.resolve(),
            "val_data": cfg.val_data.resolve() if cfg.val_data else None,
            "init_from": cfg.init_from.resolve() if cfg.init_from else None,
            "real_backgrounds": [p.resolve() for p in cfg.real_backgrounds]})
        trainer = TorchTrainer(
            _worker,
            train_loop_config=json.loads(absolute.model_dump_json()),
            torch_config=TorchConfig(backend="gloo"),
            scaling_config=ScalingConfig(num_workers=cfg.num_workers, use_gpu=False,
                                         resources_per_worker={"CPU": 1}),
            run_config=RunConfig(name="ray", storage_path=str(out)),
        )
        result = trainer.fit()
        if result.error is not None:
            raise result.error
    finally:
        if started:
            ray.shutdown()
    summary_file = cfg.out / "train_summary.json"
    summary: dict[str, Any] = json.loads(summary_file.read_text()) if summary_file.is_file() \
        else {}
    return summary
