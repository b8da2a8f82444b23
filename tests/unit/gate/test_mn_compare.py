"""`training.plate_recognizer.compare`: side-by-side scoring of Mongolian recognisers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from serving.repository import versions
from training.plate_recognizer.compare import _confusions, main, score_model
from training.plate_recognizer.train import build_set

REPO = Path(__file__).resolve().parents[3] / "serving" / "model_repository" / "plate_rec_mn"


def test_confusions_count_substitutions_of_same_length_misreads() -> None:
    pairs = [("1537УНЛ", "7537УНЛ"), ("1537УНЛ", "7537УНА"), ("4919УБЦ", "4919УБЦ"),
             ("4919УБЦ", None), ("4919УБЦ", "919УБЦ")]
    assert _confusions(pairs) == [("1->7", 2), ("Л->А", 1)]


def test_served_model_reads_most_synthetic_lines() -> None:
    x, texts = build_set(48, 123)
    served = REPO / str(versions(REPO)[-1]) / "model.onnx"
    r = score_model(served, x, texts)
    assert r["n"] == 48
    # served versions read ~90 % of held-out lines; an untrained or mis-wired model reads none
    assert r["gate_exact"] >= 0.7 and r["greedy_exact"] >= 0.6
    assert r["mean_confidence_right"] > 0.5


def test_cli_writes_json_and_rejects_missing_models(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    served = REPO / str(versions(REPO)[-1]) / "model.onnx"
    out = tmp_path / "cmp.json"
    assert main([str(served), "--n", "8", "--seed", "9", "--json", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["n"] == 8 and len(data["results"]) == 1
    assert "gate" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main([str(tmp_path / "nope.onnx")])
    assert exc.value.code == 2
