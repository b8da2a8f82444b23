"""5-point alignment: geometry, and agreement with dlib's own chip extraction."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from vision.faces.align import (
    chip_template,
    chip_to_image_transform,
    extract_chip,
    extract_chips,
    similarity_transform,
)
from vision.faces.decode import decode_rgb


@pytest.mark.parametrize(("angle", "scale", "shift"), [(0.0, 1.0, (0, 0)), (0.3, 2.5, (40, -7)),
                                                       (-1.2, 0.4, (3.5, 100.0))])
def test_similarity_transform_recovers_a_known_one(angle: float, scale: float,
                                                   shift: tuple[float, float]) -> None:
    src = np.random.default_rng(1).normal(size=(5, 2)) * 30
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    dst = scale * src @ rot.T + np.array(shift)
    m = similarity_transform(src, dst)
    assert np.allclose(m[:, :2], scale * rot, atol=1e-9)
    assert np.allclose(m[:, 2], shift, atol=1e-9)


def test_similarity_transform_rejects_degenerate_input() -> None:
    with pytest.raises(ValueError, match="coincide"):
        similarity_transform(np.ones((5, 2)), np.zeros((5, 2)))
    with pytest.raises(ValueError):
        similarity_transform(np.zeros((1, 2)), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="finite"):
        similarity_transform(np.full((3, 2), np.nan), np.zeros((3, 2)))


def test_landmarks_land_on_the_template() -> None:
    """Paint the 5 landmarks as bright dots; in the chip they must sit at the template."""
    rng = np.random.default_rng(2)
    tmpl = chip_template()
    angle, scale = 0.4, 1.6
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    marks = (tmpl - 75) @ rot.T * scale + np.array([200.0, 180.0])
    img = np.zeros((400, 400, 3), np.uint8)
    for x, y in marks.round().astype(int):
        img[y - 1:y + 2, x - 1:x + 2] = 255
    chip = extract_chip(img, marks + rng.normal(0, 0.01, marks.shape))
    for tx, ty in tmpl:
        patch = chip[int(ty) - 3:int(ty) + 4, int(tx) - 3:int(tx) + 4, 0]
        assert patch.max() > 60, (tx, ty)


def test_chips_match_dlib_get_face_chip(faces_dir: Path) -> None:
    """Both the plain path (face ~1.2x the chip) and the pyramid path (face ~5x) agree with
    dlib to well under one grey level on average."""
    import dlib

    from serving.faces_dlib import SHAPE_PREDICTOR_5, model_file

    predictor = dlib.shape_predictor(model_file(SHAPE_PREDICTOR_5))
    for name, box in [("face_recognition/two_people.jpg", (233, 47, 411, 224)),
                      ("deepface/img1.jpg", (480, 520, 1270, 1300))]:
        img = decode_rgb((faces_dir / name).read_bytes())
        shape = predictor(img, dlib.rectangle(*box))
        marks = np.array([[p.x, p.y] for p in shape.parts()], np.float64)
        ref = dlib.get_face_chip(img, shape, size=150, padding=0.25)
        ours = extract_chip(img, marks)
        assert ours.shape == (150, 150, 3)
        assert np.abs(ref.astype(int) - ours).mean() < 1.0, name


def test_transform_and_batch_shapes() -> None:
    marks = chip_template() * 2 + 10
    m = chip_to_image_transform(marks)
    # dlib rounding: corner pixels 0 and 149 span a (150 * scale - 1)-pixel square
    assert m.shape == (2, 3) and math.isclose(math.hypot(m[0, 0], m[1, 0]), (300 - 1) / 149,
                                              rel_tol=1e-6)
    img = np.zeros((100, 120, 3), np.uint8)
    assert extract_chips(img, np.stack([marks, marks])).shape == (2, 150, 150, 3)
    assert extract_chips(img, np.zeros((0, 5, 2))).shape == (0, 150, 150, 3)
    far = marks + 10_000  # entirely outside: black chip, no error
    assert extract_chip(img, far).max() == 0
    with pytest.raises(ValueError):
        extract_chip(img[:, :, 0], marks)
    with pytest.raises(ValueError):
        chip_to_image_transform(np.zeros((4, 2)))
