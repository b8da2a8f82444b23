"""The training loader re-reads the epoch in its worker processes (fresh augmentations)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch.utils.data import Dataset

from training.xray.config import TrainConfig
from training.xray.loop import train_loader


class _EpochEcho(Dataset[torch.Tensor]):
    """Returns the epoch it was told, as the real dataset seeds its augmentations with it."""

    def __init__(self) -> None:
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int) -> torch.Tensor:
        return torch.tensor(self.epoch)


def test_loader_workers_see_each_new_epoch(tmp_path: Path) -> None:
    ds = _EpochEcho()
    loader = train_loader(ds, TrainConfig(data=tmp_path, out=tmp_path / "run", batch_size=2,
                                          loader_workers=1))
    seen = []
    for epoch in range(3):
        ds.set_epoch(epoch)
        seen.append({int(x) for batch in loader for x in batch})
    # persistent workers kept the dataset copy they forked with and gave {0} every epoch
    assert seen == [{0}, {1}, {2}]
