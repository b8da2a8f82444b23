"""The real shared faces: detection counts, and verification accuracy on pairs.csv.

The threshold is dlib's published 0.6 (chosen on LFW, not on these pairs), so this measures,
it does not fit. Embeddings come from the in-process dlib models (same code as the Triton
models; tests/integration/faces checks they agree).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipelines.faces.analyze import FaceAnalyzer
from pipelines.faces.calibrate import read_pairs, score_pairs
from vision.faces.calibration import accuracy
from vision.faces.embeddings import DLIB_REFERENCE_THRESHOLD, distances

pytestmark = pytest.mark.slow


def test_every_pair_image_gives_one_embedding(real_face_embeddings: dict[str, Any],
                                              faces_dir: Path) -> None:
    names = {p.a for p in read_pairs(faces_dir)} | {p.b for p in read_pairs(faces_dir)}
    assert set(real_face_embeddings) == names
    norms = np.linalg.norm(np.stack(list(real_face_embeddings.values())), axis=1)
    assert np.all((norms > 1.0) & (norms < 2.0))  # dlib vectors are not unit length


def test_verification_accuracy_on_real_pairs(real_face_embeddings: dict[str, Any],
                                             faces_dir: Path) -> None:
    pairs = read_pairs(faces_dir)
    d = np.array([distances(real_face_embeddings[p.a], real_face_embeddings[p.b])[0, 0]
                  for p in pairs])
    same = np.array([p.same for p in pairs])
    assert len(pairs) == 448 and same.sum() == 166
    assert accuracy(d, same, DLIB_REFERENCE_THRESHOLD) >= 0.99  # the target
    report, _ = score_pairs("pairs.csv", real_face_embeddings, pairs, folds=10)
    assert report.cv_accuracy_mean >= 0.99
    assert report.tar_at_far_1e2["tar"] >= 0.99 and report.auc >= 0.999


@pytest.mark.parametrize(("name", "faces"), [("face_recognition/two_people.jpg", 2),
                                             ("deepface/couple.jpg", 2),
                                             ("face_recognition/alex-lacamoire.png", 1)])
def test_face_counts_on_group_photos(local_analyzer: FaceAnalyzer, faces_dir: Path, name: str,
                                     faces: int) -> None:
    analyzed = local_analyzer.analyze((faces_dir / name).read_bytes(), name)
    assert len(analyzed.faces) == faces
    for f in analyzed.faces:
        x1, y1, x2, y2 = f.box
        assert 0 <= x1 < x2 <= analyzed.width and 0 <= y1 < y2 <= analyzed.height
        assert f.embedding.shape == (128,)


def test_identities_of_group_photo_left_to_right(local_analyzer: FaceAnalyzer,
                                                 real_face_embeddings: dict[str, Any],
                                                 faces_dir: Path) -> None:
    """two_people.jpg shows Obama then Biden (labels.json, left to right)."""
    analyzed = local_analyzer.analyze((faces_dir / "face_recognition/two_people.jpg")
                                      .read_bytes())
    left, right = sorted(analyzed.faces, key=lambda f: f.box[0])
    obama = real_face_embeddings["face_recognition/obama.jpg"]
    biden = real_face_embeddings["face_recognition/biden.jpg"]
    assert distances(left.embedding, obama)[0, 0] < DLIB_REFERENCE_THRESHOLD
    assert distances(right.embedding, biden)[0, 0] < DLIB_REFERENCE_THRESHOLD
    assert distances(left.embedding, biden)[0, 0] > DLIB_REFERENCE_THRESHOLD
