"""One scan -> findings, in-process: decode, detect (batched), rules. No sinks here.

Per modality:

* **X-ray baggage** (pseudo-colour, raw pair rendered to pseudo-colour, or single-energy
  grey): the threat detector; each box gets a material class (Zeff classes from the raw pair
  when there is one, else the vendor colour convention, :mod:`vision.atr.material_hue`);
  boxes at or above the card's display threshold become one ``threat`` finding.
* **X-ray cargo** (a truck scan with a declaration): empty-container verification when
  declared empty, manifest consistency otherwise (:mod:`pipelines.scan.cargo`).
* **CT volume**: 3-D segmentation in material windows (:mod:`vision.atr.ct_segment`);
  components become a ``threat`` finding with 3-D boxes, the MIP is the reviewer picture.
* **Backscatter**: decoded and kept as evidence; no model or rule analyses it yet.
* **Unreadable** (any decode error): an ``unreadable`` finding carrying the reason.

Finding ids are derived from the capture's content hash and the finding kind, so analysing
the same bytes again yields the same findings (the review queue de-duplicates on id).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from datasets.scan_io import ScanFormatError
from kouan.domain import Detection, Finding, FindingType, Modality, ModelRef, Severity
from pipelines.scan.cargo import (
    CargoCalibration,
    CargoRegionError,
    check_manifest,
    load_signature,
    verify_empty,
)
from pipelines.scan.decode import DecodedScan, ScanRef, decode_scan
from pipelines.scan.detector import NON_THREAT, Detector, detect, threat_score
from vision.atr.ct_segment import segment
from vision.atr.material_hue import region_material
from vision.xray.spectra import dual_layer_160kv
from vision.xray.zeff import MaterialClass, material_classes, zeff_map

log = logging.getLogger(__name__)

SEVERITY_BY_LABEL = {"handgun": Severity.HIGH, "gun_part": Severity.HIGH, "ied": Severity.HIGH,
                     "knife": Severity.MEDIUM, "liquid": Severity.LOW}
CT_MIN_VOXELS = 8
CT_MAX_OBJECTS = 5


@dataclass
class ScanResult:
    """What analysing one scan produced (see module docstring)."""

    ref: ScanRef
    modality: str
    sha256: str | None
    detections: list[dict[str, Any]] = field(default_factory=list)
    threat_score: float | None = None
    findings: list[Finding] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    capture: bytes = b""
    media_type: str = "application/octet-stream"
    reviewer_png: bytes | None = None
    model: tuple[str, str] | None = None

    @property
    def case_id(self) -> str:
        return case_id_for(self.sha256, self.ref)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": ", ".join(str(p) for p in self.ref.paths),
            "modality": self.modality,
            "sha256": self.sha256,
            "detections": self.detections,
            "threat_score": None if self.threat_score is None else round(self.threat_score, 4),
            "findings": [{"id": f.id, "type": f.type.value, "severity": f.severity.value,
                          "explanation": f.explanation,
                          "detections": [d.model_dump(mode="json") for d in f.detections]}
                         for f in self.findings],
            **({"error": self.error} if self.error else {}),
            **self.extra,
        }


def case_id_for(sha: str | None, ref: ScanRef) -> str:
    """``scan-`` + 32 hex: the capture's content hash, combined with its declaration when
    there is one (the same scan filed under another declaration is another case)."""
    if sha is None:  # unreadable bytes: identify the capture by its path
        sha = hashlib.sha256(str(ref.paths[0]).encode()).hexdigest()
    decl = ref.meta.get("declaration")
    if decl:
        key = f"{sha}:{json.dumps(decl, sort_keys=True, separators=(',', ':'))}"
        sha = hashlib.sha256(key.encode()).hexdigest()
    return f"scan-{sha[:32]}"


def _finding(res: ScanResult, kind: str, ftype: FindingType, severity: Severity,
             explanation: str, port_id: str, detections: list[Detection] | None = None,
             evidence: list[str] | None = None, modality: Modality | None = None) -> Finding:
    model = ModelRef(name=res.model[0], version=res.model[1]) if res.model else None
    return Finding(id=f"fnd-{res.case_id[5:]}-{kind}", case_id=res.case_id, type=ftype,
                   severity=severity, explanation=explanation[:4000], port_id=port_id,
                   modality=modality, detections=detections or [], evidence=evidence or [],
                   model=model)


def _png(rgb: npt.NDArray[np.uint8]) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return buf.tobytes() if ok else b""


class ScanAnalyzer:
    """Analyse scans with a detector and the cargo calibration (see module docstring)."""

    def __init__(self, detector: Detector, cargo: CargoCalibration | None, port_id: str):
        self.detector = detector
        self.cargo = cargo
        self.port_id = port_id

    def analyze(self, refs: Sequence[ScanRef]) -> list[ScanResult]:
        """Results in input order; a bad file yields an ``unreadable`` result, never raises."""
        results: list[ScanResult] = []
        decoded: list[DecodedScan | None] = []
        for ref in refs:
            try:
                d = decode_scan(ref)
                decoded.append(d)
                results.append(ScanResult(ref, d.modality.value, d.sha256, capture=d.data,
                                          media_type=d.media_type))
            except (ScanFormatError, OSError, ValueError) as exc:
                decoded.append(None)
                results.append(self._unreadable(ref, str(exc)))
        xray = [k for k, d in enumerate(decoded) if d is not None and d.rgb is not None
                and not d.is_cargo and d.modality in (Modality.XRAY_DUAL_ENERGY,
                                                      Modality.XRAY_SINGLE_ENERGY)]
        pictures = [(k, d) for k, d in enumerate(decoded) if k in set(xray) and d is not None
                    and d.rgb is not None]
        if pictures:
            dets = detect(self.detector, [d.rgb for _, d in pictures if d.rgb is not None])
            for (k, pic), (det, scores) in zip(pictures, dets, strict=True):
                self._threats(results[k], pic, det, scores)
        for res, maybe in zip(results, decoded, strict=True):
            if maybe is None:
                continue
            d = maybe
            try:
                if d.is_cargo and d.low is not None and d.high is not None:
                    self._cargo(res, d)
                elif d.modality is Modality.CT_VOLUME:
                    self._ct(res, d)
                elif d.modality is Modality.BACKSCATTER:
                    res.extra["note"] = "backscatter captured; no model analyses it yet"
            except (CargoRegionError, ValueError) as exc:
                res.extra["rule_error"] = str(exc)
        return results

    def _unreadable(self, ref: ScanRef, reason: str) -> ScanResult:
        sha = None
        data = b""
        try:
            if len(ref.paths) == 1 and ref.paths[0].is_file():
                data = ref.paths[0].read_bytes()
                sha = hashlib.sha256(data).hexdigest()
        except OSError:
            pass
        res = ScanResult(ref, "unknown", sha, error=reason, capture=data)
        res.findings.append(_finding(res, "unreadable", FindingType.UNREADABLE, Severity.LOW,
                                     f"unreadable capture quarantined: {reason}",
                                     self.port_id))
        return res

    def _materials(self, d: DecodedScan, box: tuple[float, float, float, float]) -> str:
        if d.low is None or d.high is None:
            if d.modality is Modality.XRAY_SINGLE_ENERGY or d.rgb is None:
                return "unknown"  # one energy carries no material information
            return region_material(d.rgb, box)
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        lo, hi = d.low[y1:y2, x1:x2], d.high[y1:y2, x1:x2]
        if lo.size == 0:
            return "unknown"
        cls = material_classes(zeff_map(lo, hi, dual_layer_160kv()), hi)
        counts = np.bincount(cls.ravel(), minlength=5)
        fg = counts[1:].sum()
        if fg == 0:
            return "background"
        if (counts[MaterialClass.METAL] + counts[MaterialClass.IMPENETRABLE]) / fg >= 0.2:
            return "metal"
        return ("organic", "inorganic")[int(counts[2] > counts[1])]

    def _threats(self, res: ScanResult, d: DecodedScan, det: Any, scores: Any) -> None:
        card = self.detector.card
        res.model = self.detector.model_ref
        res.threat_score = threat_score(card, scores)
        thr = card.box_threshold
        keep = []
        for b, s, c in zip(det.boxes, det.scores, det.class_ids, strict=True):
            if float(s) < thr:
                continue
            label = card.classes[int(c)]
            x1, y1, x2, y2 = (round(float(v), 1) for v in b)
            box = (x1, y1, x2, y2)
            res.detections.append({"label": label, "score": round(float(s), 4),
                                   "box": list(box), "material": self._materials(d, box)})
            if label not in NON_THREAT:
                keep.append(res.detections[-1])
        res.extra["image_threshold_10pct_fa"] = round(card.image_threshold_10pct_fa, 4)
        if not keep:
            return
        severity = max((SEVERITY_BY_LABEL.get(k["label"], Severity.MEDIUM) for k in keep),
                       key=lambda s: s.rank)
        text = "; ".join(f"{k['label']} {k['score']:.2f} ({k['material']}) at "
                         f"[{', '.join(f'{v:.0f}' for v in k['box'])}]" for k in keep)
        res.findings.append(_finding(
            res, "threat", FindingType.THREAT, severity,
            f"{len(keep)} threat item(s): {text}", self.port_id,
            [Detection(label=k["label"], score=min(1.0, k["score"]),
                       box=(k["box"][0], k["box"][1], k["box"][2], k["box"][3]))
             for k in keep], modality=d.modality))

    def _cargo(self, res: ScanResult, d: DecodedScan) -> None:
        if self.cargo is None:
            res.extra["rule_error"] = "no cargo calibration loaded"
            return
        decl = d.ref.meta.get("declaration") or {}
        sig = load_signature(d.low, d.high)  # type: ignore[arg-type]
        res.extra["load"] = {"box": list(sig.box), "load_fraction": round(sig.load_fraction, 4),
                             "organic": round(sig.organic, 3),
                             "inorganic": round(sig.inorganic, 3),
                             "metal": round(sig.metal, 3)}
        declared_empty = bool(decl.get("declared_empty"))
        chapter = decl.get("declared_hs_chapter")
        if chapter is None and decl.get("goods"):
            chapter = str(decl["goods"][0].get("hs_code", ""))[:2] or None
        box = (float(sig.box[0]), float(sig.box[1]), float(sig.box[2]), float(sig.box[3]))
        if declared_empty:
            v = verify_empty(sig, self.cargo)
            res.extra["empty_verification"] = v.colour
            if v.colour != "green":
                res.findings.append(_finding(
                    res, "empty", FindingType.EMPTY_CONTAINER_NOT_EMPTY,
                    Severity.HIGH if v.colour == "red" else Severity.MEDIUM, v.explanation,
                    self.port_id, [Detection(label=f"load_{v.colour}", score=min(
                        1.0, v.load_fraction), box=box)], modality=d.modality))
        elif chapter:
            m = check_manifest(sig, str(chapter), self.cargo)
            res.extra["manifest"] = {"declared": m.declared, "best_fit": m.best,
                                     "mismatch": m.mismatch}
            if m.mismatch:
                res.findings.append(_finding(
                    res, "manifest", FindingType.MANIFEST_MISMATCH, Severity.MEDIUM,
                    m.explanation, self.port_id,
                    [Detection(label=f"hs_{m.best}", score=1.0, box=box)],
                    modality=d.modality))

    def _ct(self, res: ScanResult, d: DecodedScan) -> None:
        if d.volume is None:
            return
        objs = segment(d.volume, d.zeff_volume, CT_MIN_VOXELS)[:CT_MAX_OBJECTS]
        voxel = d.voxel_cm or 1.0
        res.extra["ct_objects"] = [{"window": o.window, "voxels": o.voxels,
                                    "box_voxels": list(o.box_voxels),
                                    "box_cm": list(o.box_cm(voxel))} for o in objs]
        res.reviewer_png = _png(d.rgb) if d.rgb is not None else None
        if not objs:
            return
        severity = Severity.HIGH if any(o.window == "dense_organic" for o in objs) \
            else Severity.MEDIUM
        text = "; ".join(f"{o.window} {o.voxels} voxels at {o.box_cm(voxel)} cm "
                         f"(s0, h0, w0, s1, h1, w1)" for o in objs)
        res.findings.append(_finding(
            res, "ct", FindingType.THREAT, severity,
            f"CT segmentation: {len(objs)} object(s) in threat windows: {text}; boxes on the "
            "top-view MIP", self.port_id,
            [Detection(label=o.window, score=1.0, box=o.mip_box()) for o in objs],
            modality=d.modality))
