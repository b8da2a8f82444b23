"""CI smoke run of the whole recipe: tiny synthetic data -> Ray Train (a few steps) ->
checkpoint -> resume -> evaluation JSON + PNG -> `kouan export` into a model repository."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from datasets.synth.export import XrayExportOptions, export_xray
from kouan.cli.main import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny-xray")
    export_xray(out, XrayExportOptions(kind="baggage", n=6, seed=5, size=128))
    return out


def test_train_resume_eval_export(tiny_data: Path, tmp_path: Path, ray_local: None) -> None:
    from training.xray.config import TrainConfig
    from training.xray.evaluate import evaluate_run
    from training.xray.ray_train import run_ray_train

    run = tmp_path / "run"
    cfg = TrainConfig(data=tiny_data, out=run, size=128, batch_size=2, max_steps=2,
                      val_fraction=0.34, val_limit=4, tip_per_label=1, loader_workers=0,
                      threads=1, warmup_steps=1, widths=(4, 8, 8, 16, 16), neck_width=8)
    first = run_ray_train(cfg)
    assert first["steps"] == 2 and first["stopped"] == "max_steps"
    assert (run / "checkpoints" / "last.pt").is_file()
    assert (run / "checkpoints" / "best.pt").is_file()
    # resume: the step counter continues from the checkpoint
    second = run_ray_train(cfg.model_copy(update={"max_steps": 4}))
    assert second["steps"] == 4
    lines = [json.loads(x) for x in (run / "progress.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [2, 4]
    assert all(np.isfinite(x["loss"]) for x in lines)

    report = evaluate_run(run)
    assert 0.0 <= report["synthetic"]["mAP50"] <= 1.0
    for png in ("pr_curves.png", "confusion_matrix.png", "pd_fa_synthetic.png",
                "overlays.png"):
        assert (run / "eval" / png).stat().st_size > 1000
    metrics = json.loads((run / "eval" / "metrics.json").read_text())
    assert set(metrics["synthetic"]["per_class"]) == set(metrics["classes"])

    repo = tmp_path / "repo"
    assert main(["export", str(run), "--repository", str(repo)]) == 0
    vdir = repo / "xray_atr" / "1"
    card = json.loads((vdir / "card.json").read_text())
    assert card["classes"] == metrics["classes"] and card["input"]["shape"][2] == 128
    assert "TYPE_UINT8" in (repo / "xray_atr" / "config.pbtxt").read_text()
    sess = ort.InferenceSession(str(vdir / "model.onnx"), providers=["CPUExecutionProvider"])
    hm, ltrb = sess.run(None, {"images": np.zeros((3, 3, 128, 128), np.uint8)})
    assert hm.shape == (3, len(card["classes"]), 32, 32) and ltrb.shape == (3, 4, 32, 32)
    # a second export is a new version; exporting a folder without checkpoints exits 2
    assert main(["export", str(run), "--repository", str(repo)]) == 0
    assert (repo / "xray_atr" / "2" / "model.onnx").is_file()
    assert main(["export", str(tmp_path), "--repository", str(repo)]) == 2
    # mirror averaging in the graph: refused until the evaluation was made the same way
    assert main(["export", str(run), "--repository", str(repo), "--tta", "hflip"]) == 2
    assert not (repo / "xray_atr" / "3" / "model.onnx").exists()
    assert main(["train", "eval", str(run), "--tta", "hflip"]) == 0
    assert main(["export", str(run), "--repository", str(repo), "--tta", "hflip"]) == 0
    card3 = json.loads((repo / "xray_atr" / "3" / "card.json").read_text())
    assert card3["test_time_augmentation"] == "hflip"
    assert card3["metrics"]["summary"]["tta"] == "hflip"
    # an exported version becomes a run folder again, with the version's exact function
    again = tmp_path / "again"
    args = ["train", "from-version", str(vdir / "model.onnx"), "--out", str(again), "--data",
            str(tiny_data)]
    assert main(args) == 0
    assert main(args) == 2  # never overwrites a run
    import torch

    from training.xray.evaluate import load_run

    model, _ = load_run(again)
    probe = np.random.default_rng(0).integers(0, 256, (2, 3, 128, 128), dtype=np.uint8)
    with torch.no_grad():
        got = model(torch.from_numpy(probe))[0].numpy()
    np.testing.assert_allclose(got, sess.run(None, {"images": probe})[0], atol=1e-4)
    # fine-tuning can start from an exported version alone (the run folder is not committed)
    tuned = run_ray_train(cfg.model_copy(update={"out": tmp_path / "ft", "max_steps": 1,
                                                 "init_from": vdir / "model.onnx"}))
    assert tuned["steps"] == 1


def test_train_cli_rejects_bad_arguments(tmp_path: Path, tiny_data: Path) -> None:
    assert main(["train", "xray", "--data", str(tmp_path / "nope"), "--out",
                 str(tmp_path / "r")]) == 2
    assert main(["train", "xray", "--data", str(tiny_data), "--out", str(tmp_path / "r"),
                 "--size", "100"]) == 2
    assert main(["train", "xray", "--data", str(tmp_path), "--out", str(tmp_path / "r")]) == 2
