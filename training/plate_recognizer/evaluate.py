"""Evaluate a Mongolian plate recogniser (ONNX) on the real plates in ``realdata/plates_cn``.

The plate is cut at its ground-truth box (recogniser accuracy, localisation excluded), turned
into one line for each row layout its aspect ratio allows, read with the gate's test-time
shifts (:func:`vision.plates.mn_rec.mn_shifted`), and decoded with the plate
grammar; the layout with the better reading wins. Ground truth: ``plate_text_cyrillic_guess``
of ``labels.json`` (the data collector's transliteration of the VOC character classes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from vision.ocr_ctc import ctc_greedy_decode
from vision.plates.ctc_constrained import CharsetIndex
from vision.plates.mn_rec import MN_CHARSET, mn_batch, mn_merge_shifts, mn_shifted
from vision.plates.reading import read_mn
from vision.plates.rectify import plate_line, row_options


def real_mongolian(realdata_plates: Path) -> list[tuple[str, npt.NDArray[np.uint8], str]]:
    """``(file, grey crop at the ground-truth box, plate text)`` for every Mongolian sample."""
    labels = json.loads((realdata_plates / "labels.json").read_text(encoding="utf-8"))["files"]
    out = []
    for name, lab in sorted(labels.items()):
        if not name.startswith("mongolian/"):
            continue
        img = cv2.imread(str(realdata_plates / name), cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise FileNotFoundError(realdata_plates / name)
        x1, y1, x2, y2 = lab["plate_bbox_xyxy"]
        crop = np.asarray(img[y1:y2, x1:x2], dtype=np.uint8)
        out.append((name, crop, lab["plate_text_cyrillic_guess"].replace(" ", "")))
    if not out:
        raise FileNotFoundError(f"no mongolian/ entries in {realdata_plates / 'labels.json'}")
    return out


def evaluate_onnx_on_real(model: Path, realdata_plates: Path) -> dict[str, Any]:
    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    cs = CharsetIndex(MN_CHARSET)
    per_file = []
    exact = greedy_exact = 0
    samples = real_mongolian(realdata_plates)
    for name, crop, truth in samples:
        h, w = crop.shape[:2]
        best = None
        greedy = ""
        for rows in row_options(w / h):
            probs = mn_merge_shifts(
                sess.run(None, {"x": mn_shifted(mn_batch([plate_line(crop, rows)]))})[0])[0]
            r = read_mn(probs, cs, rows)
            if r is not None and (best is None or r.score > best.score):
                best = r
                greedy = ctc_greedy_decode(probs[None], MN_CHARSET)[0].text
        text = best.text if best else None
        exact += text == truth
        greedy_exact += greedy == truth
        per_file.append({"file": name, "truth": truth, "read": text, "greedy": greedy})
    n = len(samples)
    return {"n": n, "exact": exact / n, "greedy_exact": greedy_exact / n, "per_file": per_file}
