"""Would a second, independently trained Chinese plate recogniser read the province glyphs ours
misses? Evidence for docs/gate.md, not part of ``make bench``.

HyperLPR 0.0.2 (MIT, https://github.com/zeusees/HyperLPR) ships a CTC plate recogniser trained
on real Chinese plates ("SegmenationFree-Inception", Caffe, 84 classes: 31 provinces, digits,
letters, special characters) inside its wheel. It is not a project dependency; to run this::

    .venv/bin/pip download --no-deps -d /tmp/pk hyperlpr==0.0.2
    unzip -qo /tmp/pk/hyperlpr-0.0.2-py3-none-any.whl -d /tmp/hl
    .venv/bin/python bench/cn_second_recogniser.py --hyperlpr /tmp/hl/hyperlpr

For every real Chinese plate (CCPD photos and LPRNet crops) the gate's
:class:`pipelines.gate.plates.PlateReader` (in-process ONNX Runtime on the served models)
finds and reads the plate; HyperLPR's recogniser then reads the same rectified plate (tight,
as its own pipeline crops). Prints and writes ``bench/results/cn_second_recogniser.json``:
exact matches and province matches of both, and what HyperLPR reads on our misses.
"""

from __future__ import annotations

import argparse
import csv
import json
import runpy
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from kouan.realdata import realdata_dir

RESULTS = Path(__file__).resolve().parent / "results" / "cn_second_recogniser.json"
PROVINCES = 31  # HyperLPR's first 31 classes are the provinces


class HyperLprRecogniser:
    """HyperLPR's segmentation-free recogniser through OpenCV DNN: a plate crop (uint8 BGR,
    any size; resized to 160x40 as HyperLPR does) -> ``[T, 84]`` per-step class scores."""

    def __init__(self, package: Path) -> None:
        dnn = package / "models" / "dnn"
        self.net = cv2.dnn.readNetFromCaffe(str(dnn / "SegmenationFree-Inception.prototxt"),
                                            str(dnn / "SegmenationFree-Inception.caffemodel"))
        self.chars: list[str] = runpy.run_path(str(package / "table_chs.py"))["chars"]

    def scores(self, crop: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        x = cv2.resize(crop, (160, 40)).transpose(1, 0, 2)
        self.net.setInput(cv2.dnn.blobFromImage(x, 1 / 255.0, (40, 160), (0, 0, 0), False,
                                                False))
        y = self.net.forward()[0]
        return np.asarray(np.squeeze(y[:, 2:, :]).T, dtype=np.float32)

    def greedy(self, y: npt.NDArray[np.float32]) -> str:
        best = y.argmax(axis=1)
        return "".join(self.chars[k] for i, k in enumerate(best)
                       if k < len(self.chars) and (i == 0 or k != best[i - 1]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hyperlpr", type=Path, required=True,
                    help="the unpacked hyperlpr package folder (holds models/ and table_chs.py)")
    ap.add_argument("--realdata", type=Path, default=None)
    a = ap.parse_args()
    if not (a.hyperlpr / "models" / "dnn" / "SegmenationFree-Inception.caffemodel").is_file():
        print(f"error: no HyperLPR models under {a.hyperlpr} (see this script's docstring)",
              file=sys.stderr)
        return 2
    from pipelines.gate.ocr import GateOcr
    from pipelines.gate.plates import PlateReader
    from serving.bundled import prepare_repository
    from serving.onnx_local import OnnxRuntimeClient
    from vision.plates.rectify import rectify

    hl = HyperLprRecogniser(a.hyperlpr)
    reader = PlateReader(GateOcr.from_repository(OnnxRuntimeClient(prepare_repository())))
    pdir = (a.realdata or realdata_dir()) / "plates_cn"
    with (pdir / "labels.csv").open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["file"].split("/")[0] in
                ("ccpd", "lprnet_crops")]
    per_file: list[dict[str, Any]] = []
    for r in rows:
        img = np.asarray(cv2.imread(str(pdir / r["file"]), cv2.IMREAD_COLOR), np.uint8)
        found = reader.read(img)
        ours = found[0].text if found else None
        theirs, province, p_conf = None, None, 0.0
        if found:
            y = hl.scores(rectify(img, found[0].quad, out_height=48))
            theirs = hl.greedy(y)
            first = y[:, :PROVINCES].max(axis=0)
            province, p_conf = hl.chars[int(first.argmax())], float(first.max())
        per_file.append({"file": r["file"], "truth": r["plate_text"], "ours": ours,
                         "hyperlpr": theirs, "hyperlpr_province": province,
                         "hyperlpr_province_score": round(p_conf, 3)})
    truth_p = [p["truth"][0] for p in per_file]
    missed = [p for p in per_file if p["ours"] != p["truth"]]
    out = {
        "n": len(per_file),
        "ours_exact": sum(p["ours"] == p["truth"] for p in per_file),
        "hyperlpr_exact": sum(p["hyperlpr"] == p["truth"] for p in per_file),
        "ours_province": sum(bool(p["ours"]) and p["ours"][0] == t
                             for p, t in zip(per_file, truth_p, strict=True)),
        "hyperlpr_province": sum(p["hyperlpr_province"] == t
                                 for p, t in zip(per_file, truth_p, strict=True)),
        "our_misses": len(missed),
        "our_misses_hyperlpr_exact": sum(p["hyperlpr"] == p["truth"] for p in missed),
        "our_misses_hyperlpr_province": sum(p["hyperlpr_province"] == p["truth"][0]
                                            for p in missed),
        "either_exact": sum(p["ours"] == p["truth"] or p["hyperlpr"] == p["truth"]
                            for p in per_file),
        "misses": missed,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in out.items() if k != "misses"}, indent=1))
    for p in missed:
        print(f"  {p['file'][:40]:40s} truth {p['truth']} ours {p['ours']} "
              f"hyperlpr {p['hyperlpr']} (province {p['hyperlpr_province']} "
              f"{p['hyperlpr_province_score']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
