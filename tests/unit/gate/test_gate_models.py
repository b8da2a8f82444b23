"""The gate's Triton model folders agree with their specs and cards."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from serving import ppocr
from serving.gate_models import (
    OTHER,
    PLATE_REC_MN,
    PPOCR_DET,
    build_rec_gate,
    gate_rec_charset,
    gate_rec_classes,
    install_ppocr_rec_gate,
    rec_gate_spec,
)
from serving.model_config import ModelSpec, render_config
from serving.repository import default_repository, sha256_file, versions
from vision.plates.grammar import CN_TEMPLATES
from vision.plates.mn_rec import MN_CHARSET, mn_batch

FULL = ppocr.load_charset()
REC_GATE = rec_gate_spec(len(gate_rec_charset(FULL)))


@pytest.mark.parametrize("spec", [PPOCR_DET, PLATE_REC_MN, REC_GATE], ids=lambda s: s.name)
def test_committed_config_is_rendered_from_the_spec(spec: ModelSpec) -> None:
    path = default_repository() / spec.name / "config.pbtxt"
    assert path.read_text(encoding="utf-8") == render_config(spec)


def test_mongolian_model_matches_card_and_contract() -> None:
    folder = default_repository() / "plate_rec_mn"
    model = folder / str(versions(folder)[-1]) / "model.onnx"  # the version Triton serves
    assert sha256_file(model) in (folder / "MODEL_CARD.md").read_text(encoding="utf-8")
    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["x"]
    assert [o.name for o in sess.get_outputs()] == ["probs"]
    (probs,) = sess.run(None, {"x": mn_batch([np.full((40, 160), 220, np.uint8)] * 3)})
    assert probs.shape == (3, 32, len(MN_CHARSET))


def test_gate_recogniser_keeps_every_plate_and_code_character() -> None:
    charset = gate_rec_charset(FULL)
    assert charset[0] == FULL[0] and charset[-1] == OTHER and len(charset) < 100
    for tpl in CN_TEMPLATES:
        assert tpl.charset <= set(charset), tpl.name
    assert set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") <= set(charset)


def test_gate_recogniser_columns_equal_the_full_models(tmp_path: Path) -> None:
    source = ppocr.install_ppocr_rec()
    keep = gate_rec_classes(FULL)
    target = build_rec_gate(source, keep, tmp_path / "gate.onnx")
    x = np.random.default_rng(0).uniform(-1, 1, (2, 3, 48, 160)).astype(np.float32)
    (full,) = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"]).run(
        None, {"x": x})
    (gate,) = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"]).run(
        None, {"x": x})
    rest = np.ones(full.shape[2], bool)
    rest[keep] = False
    assert gate.shape == (*full.shape[:2], len(keep) + 1)
    np.testing.assert_allclose(gate[..., :-1], full[..., keep], atol=1e-6)
    np.testing.assert_allclose(gate[..., -1], full[..., rest].max(axis=2), atol=1e-6)


def test_a_gate_recogniser_built_for_another_grammar_is_rebuilt(tmp_path: Path) -> None:
    """Adding a plate template adds characters: the derived model must follow, even though
    it is newer than its source."""
    shutil.copytree(default_repository() / "ppocr_rec", tmp_path / "ppocr_rec",
                    ignore=shutil.ignore_patterns("model.onnx"))
    source = ppocr.install_ppocr_rec(tmp_path)
    keep = gate_rec_classes(FULL)
    stale = build_rec_gate(source, keep[:-2], tmp_path / "ppocr_rec_gate" / "1" / "model.onnx")
    assert ort.InferenceSession(str(stale)).get_outputs()[0].shape[-1] == len(keep) - 1
    target = install_ppocr_rec_gate(tmp_path)
    assert ort.InferenceSession(str(target)).get_outputs()[0].shape[-1] == len(keep) + 1
    assert f"dims: [ -1, {len(keep) + 1} ]" in (tmp_path / "ppocr_rec_gate" / "config.pbtxt"
                                                ).read_text(encoding="utf-8")
