"""``seed_review_demo``: fill the review queue with real content to look at (``kouan demo``).

What it queues, each capture stored through the evidence service (so the viewer reads it from
the evidence store like any other):

* synthetic dual-energy baggage scans from :mod:`datasets.synth.baggage` (raw uint16 low/high
  pair, all material views), with findings whose boxes are the generator's ground truth
  *jittered* to stand in for an imperfect detector (the explanation says so; the model is
  named ``demo-simulated-detector``);
* a synthetic cargo scan with its declaration, so the declared-goods reference shows beside it;
* real X-ray images from ``realdata/xray_baggage`` when given: SIXray pseudo-colour scans with
  their official image-level labels (no boxes: the reviewer draws them) and the GDXray
  radiograph B0046_0004 with its official handgun box (2688 x 2208: the tiled path).

Finding ids are fixed, so running it twice queues nothing new.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from annotation.scan_decode import dual_energy_npz
from datasets.synth.baggage import generate_baggage
from datasets.synth.cargo import CargoConfig, generate_cargo
from kouan.domain import (
    Alarm,
    Declaration,
    DeclaredGoods,
    Detection,
    Finding,
    FindingType,
    Modality,
    ModelRef,
    ReviewItem,
    Severity,
)

log = logging.getLogger(__name__)

PORT = "ERENHOT"
SIM_MODEL = ModelRef(name="demo-simulated-detector", version="1")
SEVERITY_OF = {"handgun": Severity.CRITICAL, "ied": Severity.CRITICAL, "knife": Severity.HIGH,
               "gun_part": Severity.HIGH, "liquid": Severity.MEDIUM}
BAG_SEEDS = (3, 5, 8, 13, 21, 34)
SIXRAY_FILES = ("sixray/P01635.jpg", "sixray/P00001.jpg", "sixray/P03471.jpg",
                "sixray/P06930.jpg")
GDXRAY_FILE = "gdxray_full/B0046_0004.png"
DUAL_ENERGY_MEDIA = "application/x-kouan-dual-energy+npz"


class _Evidence(Protocol):
    def put_capture(self, case_id: str, data: bytes, media_type: str = ...,
                    meta: dict[str, Any] | None = None) -> str: ...


class _Queue(Protocol):
    def submit_finding(self, finding: Finding,
                       raise_alarm: bool = False) -> tuple[ReviewItem, Alarm | None]: ...


class _Services(Protocol):
    @property
    def evidence(self) -> _Evidence: ...

    @property
    def queue(self) -> _Queue: ...


def _jitter(box: tuple[float, float, float, float], rng: np.random.Generator, w: int,
            h: int) -> tuple[float, float, float, float]:
    """Shift and rescale a box by up to ~12 % of its size, clipped to the image."""
    x1, y1, x2, y2 = box
    bw, bh = x2 - x1, y2 - y1
    dx, dy = rng.uniform(-0.12, 0.12) * bw, rng.uniform(-0.12, 0.12) * bh
    sx, sy = rng.uniform(0.85, 1.15), rng.uniform(0.85, 1.15)
    cx, cy = (x1 + x2) / 2 + dx, (y1 + y2) / 2 + dy
    nx1, nx2 = max(0.0, cx - bw * sx / 2), min(float(w), cx + bw * sx / 2)
    ny1, ny2 = max(0.0, cy - bh * sy / 2), min(float(h), cy + bh * sy / 2)
    return (round(nx1, 1), round(ny1, 1), round(nx2, 1), round(ny2, 1))


def _bags(services: _Services, out: dict[str, Any]) -> None:
    for seed in BAG_SEEDS:
        sample = generate_baggage(seed)
        view = sample.views[0]
        h, w = view.low.shape
        rng = np.random.default_rng(seed)
        threats = [a for a in view.annotations if a.label in SEVERITY_OF]
        dets = [Detection(label=a.label, score=round(float(rng.uniform(0.55, 0.97)), 2),
                          box=_jitter(a.box_xyxy, rng, w, h)) for a in threats]
        case_id = f"demo-bag-{seed}"
        sha = services.evidence.put_capture(
            case_id, dual_energy_npz(view.low, view.high, "linear", "dual_layer_160kv_10keV"),
            DUAL_ENERGY_MEDIA, {"modality": "xray_dual_energy", "source": "synthetic baggage",
                                "seed": seed, "view": view.view})
        severity = max((SEVERITY_OF[a.label] for a in threats), key=lambda s: s.rank,
                       default=Severity.LOW)
        what = ", ".join(sorted({a.label for a in threats})) or "nothing suspicious"
        finding = Finding(
            id=f"demo-review-bag-{seed}", case_id=case_id, type=FindingType.THREAT,
            severity=severity, port_id=PORT, lane_id="bag-01",
            modality=Modality.XRAY_DUAL_ENERGY, detections=dets, evidence=[sha],
            model=SIM_MODEL,
            explanation=f"Demo: synthetic bag (seed {seed}) with {what}; boxes are the "
                        "generator's ground truth jittered to simulate detector error.")
        services.queue.submit_finding(finding, raise_alarm=severity is Severity.CRITICAL)
        out["synthetic bags"] += 1


#: An HS heading (4 digits) per generator chapter, for a declaration that looks like one.
HEADINGS = {"27": "2701", "85": "8528", "40": "4011", "52": "5201", "84": "8471", "08": "0805",
            "24": "2402"}


def _declaration(truth: dict[str, Any]) -> Declaration:
    """What the carrier declared (only that: the generator's truth stays out of the UI)."""
    chapter = truth.get("declared_hs_chapter")
    if not chapter:
        return Declaration(id="dec-demo-cargo", plate="蒙AD7421", declared_empty=True)
    return Declaration(id="dec-demo-cargo", plate="蒙AD7421", container_numbers=["MSCU1234565"],
                       goods=[DeclaredGoods(hs_code=HEADINGS[chapter],
                                            description=str(truth["declared_description"]),
                                            gross_kg=18500.0)])


def _cargo(services: _Services, out: dict[str, Any]) -> None:
    cfg = CargoConfig(p_empty=0.0, p_concealment=1.0, p_misdeclared=0.0)
    sample = generate_cargo(7, cfg)
    case_id = "demo-cargo-7"
    scan = services.evidence.put_capture(
        case_id, dual_energy_npz(sample.low, sample.high, "log", "linac_4_6MV"),
        DUAL_ENERGY_MEDIA, {"modality": "xray_dual_energy", "source": "synthetic cargo",
                            "seed": 7})
    decl = services.evidence.put_capture(
        case_id, _declaration(sample.declaration).model_dump_json().encode(),
        "application/json", {"role": "declaration"})
    rng = np.random.default_rng(7)
    h, w = sample.low.shape
    dets = [Detection(label=label, score=round(float(rng.uniform(0.6, 0.9)), 2),
                      box=_jitter(box, rng, w, h)) for label, box, _, _ in sample.annotations]
    finding = Finding(
        id="demo-review-cargo-7", case_id=case_id, type=FindingType.CONCEALMENT,
        severity=Severity.HIGH, port_id=PORT, lane_id="cargo-02",
        modality=Modality.XRAY_DUAL_ENERGY, detections=dets, evidence=[scan, decl],
        model=SIM_MODEL,
        explanation="Demo: synthetic truck scan; declared "
                    f"{sample.declaration.get('declared_description')}; concealment "
                    f"{', '.join(sample.declaration.get('concealments', [])) or 'none'}.")
    services.queue.submit_finding(finding)
    out["cargo scans"] += 1


def _real(services: _Services, realdata: Path, out: dict[str, Any]) -> None:
    base = realdata / "xray_baggage"
    labels = json.loads((base / "labels.json").read_text(encoding="utf-8"))["files"]
    for rel in (*SIXRAY_FILES, GDXRAY_FILE):
        path, info = base / rel, labels.get(rel)
        if info is None or not path.is_file():
            log.warning("review demo: %s not found; skipped", path)
            continue
        stem = path.stem.replace(" ", "_")
        case_id = f"demo-real-{stem}"
        media = "image/png" if path.suffix == ".png" else "image/jpeg"
        sha = services.evidence.put_capture(case_id, path.read_bytes(), media,
                                            {"source": info.get("dataset", ""), "file": rel})
        dets = [Detection(label=b["label"], score=1.0, box=tuple(b["bbox_xyxy_clipped"]))
                for b in info.get("boxes") or []]
        names = ", ".join(str(x).lower() for x in info.get("labels", []))
        finding = Finding(
            id=f"demo-review-real-{stem}", case_id=case_id, type=FindingType.THREAT,
            severity=Severity.HIGH, port_id=PORT, lane_id="bag-02",
            modality=Modality.XRAY_SINGLE_ENERGY if path.suffix == ".png"
            else Modality.XRAY_DUAL_ENERGY,
            detections=dets, evidence=[sha],
            explanation=f"Real image {rel} ({info.get('dataset', 'public dataset')}); "
                        f"official label(s): {names}. "
                        + ("Box from the dataset's ground truth." if dets
                           else "No box in the dataset: draw one."))
        services.queue.submit_finding(finding)
        out["real images"] += 1


def seed_review_demo(services: _Services, realdata: Path | None = None) -> dict[str, Any]:
    """Queue demo review items (see module docstring); returns what was queued."""
    out: dict[str, Any] = {"synthetic bags": 0, "cargo scans": 0, "real images": 0}
    _bags(services, out)
    _cargo(services, out)
    if realdata is not None and (realdata / "xray_baggage" / "labels.json").is_file():
        _real(services, realdata, out)
    out["review UI"] = "/ui/ (token role reviewer)"
    return out
