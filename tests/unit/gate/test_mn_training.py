"""Synthetic Mongolian plates and a few steps of the CRNN recipe (the full run is in the model
card of serving/model_repository/plate_rec_mn)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from PIL import ImageFont

from datasets.plates_mn import _spaced, find_fonts, generate, random_plate_text, render_plate
from training.plate_recognizer.train import TrainConfig, encode, export_onnx, train
from vision.plates.grammar import match_template
from vision.plates.mn_rec import MN_CHARSET, mn_batch


def test_generator_is_reproducible_and_valid() -> None:
    a = list(itertools.islice(generate(7), 6))
    b = list(itertools.islice(generate(7), 6))
    assert [s.text for s in a] == [s.text for s in b]
    assert all(np.array_equal(x.image, y.image) for x, y in zip(a, b, strict=True))
    for s in a:
        assert s.image.dtype == np.uint8 and s.image.shape[0] == 48 and s.image.ndim == 2
        tpl = match_template(s.text)
        assert tpl is not None and tpl.name == "mn_standard"
    assert {s.rows for s in itertools.islice(generate(1), 30)} == {1, 2}


def test_render_plate_layouts() -> None:
    rng = np.random.default_rng(0)
    font = find_fonts()[0]
    one = render_plate("1537УНЛ", 1, rng, font)
    two = render_plate("1537УНЛ", 2, rng, font)
    assert one.shape[1] / one.shape[0] > 3 and two.shape[1] / two.shape[0] < 2
    with pytest.raises(ValueError):
        render_plate("1537УН", 1, rng, font)
    with pytest.raises(ValueError):
        render_plate("1537УНЛ", 3, rng, font)
    with pytest.raises(FileNotFoundError):
        find_fonts((Path("/nonexistent"),))
    assert len(random_plate_text(rng)) == 7


def test_triangular_letter_forms() -> None:
    """The plate face's Л is a Λ and its Д a triangle on a footed bar hanging below the line;
    rows of only such letters render too."""
    font = ImageFont.truetype(str(find_fonts()[0]), 96)
    russian = np.asarray(_spaced("УЛД", font, 0, 255, 1.0, 0, 60, 0.1))
    plate_face = np.asarray(_spaced("УЛД", font, 0, 255, 1.0, 0, 60, 0.1, triangular=True))
    assert russian.shape[0] == 60 and plate_face.shape[0] > 60  # the feet of Д
    only = np.asarray(_spaced("ДДД", font, 0, 255, 1.0, 0, 60, 0.1, triangular=True))
    assert only.shape[0] > 60 and (only[-1] < 128).any()  # ink in the feet row


def test_din_one_has_a_long_flag() -> None:
    """The plate face's 1: ink at the far left 30 % of the way down (the flag), none there at
    the bottom (no foot)."""
    font = ImageFont.truetype(str(find_fonts()[0]), 96)
    one = np.asarray(_spaced("1", font, 0, 255, 1.0, 0, 60, 0.1, din_one=True))
    assert one.shape[0] == 60
    assert (one[16:22, :4] < 128).any() and not (one[-6:, :4] < 128).any()
    assert not np.array_equal(one, np.asarray(_spaced("1", font, 0, 255, 1.0, 0, 60, 0.1)))


@pytest.mark.slow
def test_a_few_training_steps_export_to_onnx(tmp_path: Path) -> None:
    cfg = TrainConfig(steps=4, samples=24, batch_size=8, val_samples=8, seed=3)
    model, metrics = train(cfg)
    assert np.isfinite(metrics["final_loss"]) and metrics["parameters"] > 10_000
    path = export_onnx(model, tmp_path / "model.onnx")
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = mn_batch([np.full((48, 200), 200, np.uint8), np.zeros((30, 90), np.uint8)])
    (probs,) = sess.run(["probs"], {"x": x})
    assert probs.shape == (2, 32, len(MN_CHARSET))
    assert np.allclose(probs.sum(axis=-1), 1.0, atol=1e-4)
    with pytest.raises(ValueError):
        encode("1537ULN")
