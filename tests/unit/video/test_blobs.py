from __future__ import annotations

import numpy as np
import pytest

from vision.video.blobs import BlobParams, mask_to_detections, shape_label


def test_separate_blobs_become_separate_boxes() -> None:
    mask = np.zeros((120, 160), np.uint8)
    mask[10:50, 10:25] = 255  # upright: person-shaped
    mask[80:100, 90:150] = 255  # wide and large: vehicle-shaped
    mask[5, 150] = 255  # speckle
    dets = mask_to_detections(mask)
    assert len(dets) == 2
    order = np.argsort(dets.boxes[:, 0])
    assert dets.boxes[order[0]].tolist() == pytest.approx([10, 10, 25, 50], abs=1)
    assert [dets.labels[i] for i in order] == ["person", "vehicle"]
    assert np.all(dets.scores > 0.9)  # solid blobs


def test_a_body_split_in_parts_is_merged() -> None:
    mask = np.zeros((120, 160), np.uint8)
    mask[10:22, 50:60] = 255  # head
    mask[26:60, 45:65] = 255  # torso, 4 px below
    dets = mask_to_detections(mask, BlobParams(close_h=3, close_w=3))
    assert len(dets) == 1
    assert dets.boxes[0].tolist() == pytest.approx([45, 10, 65, 60], abs=1)


def test_whole_frame_blob_is_rejected() -> None:
    assert len(mask_to_detections(np.full((60, 80), 255, np.uint8))) == 0


def test_shape_label() -> None:
    assert shape_label(10, 30, 600) == "person"
    assert shape_label(60, 20, 600) == "vehicle"
    assert shape_label(12, 8, 600) == "object"  # wide but small
    with pytest.raises(ValueError):
        mask_to_detections(np.zeros((4, 4), np.float32))  # type: ignore[arg-type]
