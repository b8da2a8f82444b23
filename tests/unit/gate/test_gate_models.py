"""The gate's Triton model folders agree with their specs and cards."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from serving.gate_models import PLATE_REC_MN, PPOCR_DET
from serving.model_config import ModelSpec, render_config
from serving.repository import default_repository, sha256_file, versions
from vision.plates.mn_rec import MN_CHARSET, mn_batch


@pytest.mark.parametrize("spec", [PPOCR_DET, PLATE_REC_MN], ids=lambda s: s.name)
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
