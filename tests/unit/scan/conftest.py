"""Shared inputs for the scan tests: a mixed folder of generated scans (module-independent,
built once per session) and a fake detector at the Detector seam."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from pipelines.scan.samples import write_samples
from serving.xray_atr import AtrCard

CLASSES = ("handgun", "gun_part", "knife", "ied", "liquid", "laptop")


@pytest.fixture(scope="session")
def scan_samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scan-samples")
    write_samples(out, bags=2, ct=1)
    return out


class FakeDetector:
    """Puts one handgun peak (score 0.8) at the centre of every image."""

    def __init__(self, size: int = 64) -> None:
        self.card = AtrCard("xray_atr", 7, CLASSES, size,
                            {"box_display": 0.3, "image_threat_score_at_fa": {"0.1": 0.4}}, {})
        self.calls = 0

    def score(self, batch: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.float32],
                                                          npt.NDArray[np.float32]]:
        self.calls += 1
        n, g = batch.shape[0], self.card.size // 4
        hm = np.zeros((n, len(CLASSES), g, g), np.float32)
        hm[:, 0, g // 2, g // 2] = 0.8
        ltrb = np.full((n, 4, g, g), 8.0, np.float32)
        return hm, ltrb

    @property
    def model_ref(self) -> tuple[str, str]:
        return "xray_atr", "7"


@pytest.fixture
def fake_detector() -> FakeDetector:
    return FakeDetector()
