"""Calibrate the cargo rules of :mod:`pipelines.scan.cargo` on generated truck scans.

``python -m pipelines.scan.cargo_calibration [--n 900] [--seed 4242]`` generates scans with
:func:`datasets.synth.cargo.generate_cargo`, splits them in half (fit / test), fits

* the empty-container thresholds: ``green_max`` = the largest load fraction of a truly empty
  container in the fit half (+ a small margin); ``red_min`` = the 5th percentile of load
  fractions of containers holding anything;
* the per-chapter centroids and spreads of the load signature (scans without concealments);
* the manifest mismatch margin: the 95th percentile of (declared - best) distances over
  correctly declared fit scans (so ~5 % false mismatches),

and reports false-alarm and detection rates on the test half. Writes
``pipelines/scan/cargo_calibration.json``.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

import numpy as np
import numpy.typing as npt

from datasets.synth.cargo import CargoConfig, generate_cargo
from datasets.synth.export import sample_seed
from pipelines.scan.cargo import (
    FEATURES,
    CargoCalibration,
    LoadSignature,
    check_manifest,
    load_signature,
    verify_empty,
)

log = logging.getLogger(__name__)


#: More empty containers than the generator's default (12 %) so the empty false-alarm rate
#: is measured on enough of them.
CALIBRATION_CONFIG = CargoConfig(p_empty=0.3)


def _signatures(n: int, seed: int) -> list[tuple[LoadSignature, dict[str, Any]]]:
    from tqdm import tqdm

    out = []
    failed = 0
    for i in tqdm(range(n), desc="cargo scans", unit="scan", mininterval=5):
        try:
            s = generate_cargo(sample_seed(seed, i), CALIBRATION_CONFIG)
        except ValueError:
            # some produce (HS 08) layouts hit a shape-rounding error in the generator;
            # those seeds are skipped (reported to the generator's owner)
            failed += 1
            continue
        out.append((load_signature(s.low, s.high), s.declaration))
    if failed:
        log.warning("%d of %d generator seeds failed and were skipped", failed, n)
    return out


def fit(samples: list[tuple[LoadSignature, dict[str, Any]]]) -> CargoCalibration:
    empty = [s.load_fraction for s, d in samples if d["actually_empty"]]
    full = [s.load_fraction for s, d in samples if not d["actually_empty"]]
    if not empty or not full:
        raise ValueError("calibration needs both empty and loaded containers")
    green_max = float(max(empty)) + 0.005
    red_min = max(float(np.percentile(full, 5)), green_max + 0.01)
    centroids: dict[str, list[float]] = {}
    spreads: dict[str, list[float]] = {}
    by_ch: dict[str, list[npt.NDArray[np.float32]]] = {}
    for s, d in samples:
        if d["actual_hs_chapter"] and not d["concealments"]:
            by_ch.setdefault(d["actual_hs_chapter"], []).append(s.vector())
    for ch, vs in sorted(by_ch.items()):
        m = np.stack(vs)
        centroids[ch] = m.mean(axis=0).round(5).tolist()
        spreads[ch] = (m.std(axis=0) + 0.02 + 0.05 * np.abs(m.mean(axis=0))).round(5).tolist()
    cal = CargoCalibration(green_max, red_min, centroids, spreads, 0.0, {})
    margins = [check_manifest(s, d["declared_hs_chapter"], cal).declared_distance
               - check_manifest(s, d["declared_hs_chapter"], cal).best_distance
               for s, d in samples
               if d["matches"] and d["declared_hs_chapter"] in centroids]
    margin = float(np.percentile(margins, 95)) if margins else 1.0
    return CargoCalibration(green_max, red_min, centroids, spreads, margin, {})


def test(cal: CargoCalibration, samples: list[tuple[LoadSignature, dict[str, Any]]]
         ) -> dict[str, Any]:
    empty = [verify_empty(s, cal).colour for s, d in samples if d["actually_empty"]]
    full = [verify_empty(s, cal).colour for s, d in samples if not d["actually_empty"]]
    ok = [check_manifest(s, d["declared_hs_chapter"], cal).mismatch for s, d in samples
          if d["matches"] and d["declared_hs_chapter"] in cal.centroids]
    wrong = [check_manifest(s, d["declared_hs_chapter"], cal).mismatch for s, d in samples
             if d["declared_hs_chapter"] in cal.centroids and d["actual_hs_chapter"]
             and d["declared_hs_chapter"] != d["actual_hs_chapter"]]

    def rate(xs: list[Any], pred: Any) -> float | None:
        return round(sum(1 for x in xs if pred(x)) / len(xs), 4) if xs else None

    return {
        "n_test": len(samples),
        "empty": {"n_truly_empty": len(empty), "n_not_empty": len(full),
                  "false_alarm_rate_non_green_on_empty": rate(empty, lambda c: c != "green"),
                  "red_on_empty": rate(empty, lambda c: c == "red"),
                  "miss_rate_green_on_not_empty": rate(full, lambda c: c == "green"),
                  "red_on_not_empty": rate(full, lambda c: c == "red")},
        "manifest": {"n_correctly_declared": len(ok), "n_misdeclared_goods": len(wrong),
                     "false_mismatch_rate": rate(ok, bool),
                     "mismatch_detection_rate": rate(wrong, bool)},
    }


def calibrate(n: int, seed: int) -> CargoCalibration:
    samples = _signatures(n, seed)
    half = len(samples) // 2
    cal = fit(samples[:half])
    report = {"generator": "datasets.synth.cargo.generate_cargo (CargoConfig(p_empty=0.3))",
              "n": n, "seed": seed, "features": list(FEATURES),
              "command": f"python -m pipelines.scan.cargo_calibration --n {n} --seed {seed}",
              "test": test(cal, samples[half:])}
    return CargoCalibration(cal.green_max, cal.red_min, cal.centroids, cal.spreads,
                            cal.mismatch_margin, report)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=900)
    ap.add_argument("--seed", type=int, default=4242)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)
    cal = calibrate(args.n, args.seed)
    cal.save()
    log.info("calibration: %s", cal.report)


if __name__ == "__main__":
    main()
