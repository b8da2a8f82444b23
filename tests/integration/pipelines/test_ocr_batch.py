"""The Ray Data OCR pipeline against the session's embedded Triton, on real plate crops."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from kouan.realdata import realdata_dir
from pipelines.ocr.batch import ocr_files
from serving.embedded import EmbeddedTriton

PLATES = realdata_dir() / "plates_cn"


@pytest.mark.integration
@pytest.mark.slow
def test_ray_actors_read_real_plates_and_report_unreadable_files(
        ray_local: None, triton_server: EmbeddedTriton, tmp_path: Path) -> None:
    with (PLATES / "labels.csv").open(encoding="utf-8") as f:
        truth = {r["file"]: r["plate_text"] for r in csv.DictReader(f)
                 if r["file"].startswith("lprnet_crops/")}
    files = sorted(truth)[:6]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    paths = [PLATES / f for f in files] + [broken]

    results = ocr_files(paths, triton_server.grpc_url, workers=2, batch_size=2)

    assert [r.path for r in results] == [str(p) for p in paths]
    assert results[-1].error == "not a readable image" and results[-1].text == ""
    # Characters right, ignoring the province glyph PP-OCR often drops on these low-res crops.
    def norm(t: str) -> str:
        return "".join(c for c in t if c not in "·-. ")

    tails = sum(norm(r.text).endswith(truth[f][1:]) for r, f in zip(results, files, strict=False))
    assert tails >= 4, [(r.text, truth[f]) for r, f in zip(results, files, strict=False)]
