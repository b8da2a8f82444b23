"""A small CRNN for one-line plate images: conv feature extractor -> BiGRU -> per-column classes.

Input float32 ``[N, 1, 32, 128]`` (see :mod:`vision.plates.mn_rec`); output logits
``[N, 32, C]`` (one step per 4 input columns). About 0.15 M parameters, ~0.9 GFLOP per
batch of 32 forward, so it trains in minutes on 2 CPU cores.
"""

from __future__ import annotations

import torch
from torch import nn


def _block(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True)]


class PlateCRNN(nn.Module):
    def __init__(self, num_classes: int, hidden: int = 64) -> None:
        super().__init__()
        if num_classes < 2:
            raise ValueError("num_classes must be >= 2 (blank + at least one character)")
        self.features = nn.Sequential(
            *_block(1, 16), nn.MaxPool2d(2),  # 16 x 64
            *_block(16, 32), nn.MaxPool2d(2),  # 8 x 32
            *_block(32, 64), nn.MaxPool2d((2, 1)),  # 4 x 32
            *_block(64, 96), nn.MaxPool2d((4, 1)),  # 1 x 32
        )
        self.rnn = nn.GRU(96, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x).squeeze(2).transpose(1, 2)  # [N, 32, 96]
        out, _ = self.rnn(f)
        logits: torch.Tensor = self.head(out)  # [N, 32, C]
        return logits


class WithSoftmax(nn.Module):
    """Export wrapper: probabilities, as the serving side expects."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        probs: torch.Tensor = torch.softmax(self.model(x), dim=-1)
        return probs
