"""``FaceService``: what the API, the CLI and the demo call for faces.

Privacy rules enforced here (roles are enforced one level up, at the API/CLI door):

* every 1:N search, 1:1 verification and staff check appends a ``face_*`` entry to the signed
  ledger (who asked, which gallery, how many faces, which ids hit -- never an embedding);
* probe images that hit nothing go to the encrypted, expiring :class:`ProbeStore`; a hit or a
  failed staff check turns the probe into evidence referenced by the finding;
* templates and index blobs are AES-GCM encrypted in the face store (:mod:`.crypto`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from kouan.config import Settings
from kouan.domain import (
    Detection,
    EvidenceEvent,
    Finding,
    FindingType,
    Modality,
    ModelRef,
    Severity,
    new_id,
)
from kouan.errors import UsageError
from kouan.evidence.canonical import sha256_hex
from kouan.evidence.service import EvidenceService
from kouan.queue import ReviewQueue
from pipelines.faces.analyze import Face, FaceAnalyzer, FaceInputError, pick_one_face
from pipelines.faces.blobstore import BlobStore, open_face_store
from pipelines.faces.config import FaceConfig, face_config_from_settings
from pipelines.faces.crypto import TemplateCipher, load_or_create_key
from pipelines.faces.gallery import (
    Gallery,
    GalleryKind,
    GalleryRepository,
    UnknownSubject,
    check_name,
    describe,
)
from pipelines.faces.index import IndexKind, IndexSpec, choose_spec
from pipelines.faces.liveness import LivenessChecker
from pipelines.faces.models import EMBEDDER_MODEL, FaceModels
from pipelines.faces.probes import ProbeStore
from vision.faces.blur import blur_faces
from vision.faces.cascade import HaarPrefilter
from vision.faces.decode import sniff_format
from vision.faces.embeddings import distances, inconsistent_members, match_score

log = logging.getLogger(__name__)
MODEL_REF = ModelRef(name=EMBEDDER_MODEL, version="1")
MAX_ENROL_IMAGES = 20
_MEDIA = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "bmp": "image/bmp",
          "gif": "image/gif", "tiff": "image/tiff"}


@dataclass(frozen=True)
class Actor:
    """Who asked (token name and role, or ``cli``/the OS user); goes into the ledger."""

    name: str
    role: str


class FaceService:
    def __init__(self, analyzer: FaceAnalyzer, galleries: GalleryRepository, probes: ProbeStore,
                 *, evidence: EvidenceService | None, queue: ReviewQueue | None,
                 port_id: str = "PORT") -> None:
        self.analyzer, self.galleries, self.probes = analyzer, galleries, probes
        self.evidence, self.queue, self.port_id = evidence, queue, port_id
        self._haar: HaarPrefilter | None = None

    @property
    def config(self) -> FaceConfig:
        return self.analyzer.config

    @classmethod
    def from_settings(cls, settings: Settings, models: FaceModels, *,
                      evidence: EvidenceService | None, queue: ReviewQueue | None,
                      store: BlobStore | None = None,
                      config: FaceConfig | None = None) -> FaceService:
        cipher = TemplateCipher(load_or_create_key(settings.resolved_face_template_key_file))
        blobs = store or open_face_store(settings)
        return cls(FaceAnalyzer(models, config or face_config_from_settings(settings)),
                   GalleryRepository(blobs, cipher),
                   ProbeStore(blobs, cipher, settings.face_probe_retention_hours * 3600.0),
                   evidence=evidence, queue=queue, port_id=settings.port_code)

    # -- ledger / evidence helpers --------------------------------------------------------------
    def _ledger(self, case_id: str, kind: str, actor: Actor, **payload: Any) -> None:
        if self.evidence is None:
            log.warning("no evidence service: %s by %s not written to the ledger", kind,
                        actor.name)
            return
        self.evidence.record(case_id, EvidenceEvent.INFERENCE, {
            "kind": kind, "actor": actor.name, "role": actor.role,
            "model": f"{MODEL_REF.name}:{MODEL_REF.version}", **payload})

    def _to_evidence(self, case_id: str, data: bytes, what: str) -> list[str]:
        if self.evidence is None:
            return []
        media = _MEDIA.get(sniff_format(data) or "", "application/octet-stream")
        return [self.evidence.put_capture(case_id, data, media, {"face": what})]

    def _submit(self, finding: Finding, raise_alarm: bool) -> str | None:
        if self.queue is None:
            log.warning("no review queue: finding %s (%s) not queued", finding.id, finding.type)
            return None
        self.queue.submit_finding(finding, raise_alarm=raise_alarm)
        return finding.id

    # -- galleries -----------------------------------------------------------------------------
    def create_gallery(self, name: str, kind: GalleryKind) -> dict[str, Any]:
        return describe(self.galleries.create(name, kind).meta)

    def list_galleries(self) -> list[dict[str, Any]]:
        return [describe(self.galleries.read_meta(n)) for n in self.galleries.names()]

    def gallery(self, name: str) -> Gallery:
        return self.galleries.open(name)

    def enroll(self, gallery: str, subject_id: str, images: list[tuple[str, bytes]],
               actor: Actor, *, kind: GalleryKind | None = None,
               display_name: str = "") -> dict[str, Any]:
        """Enrol ``subject_id`` from one or more photos (one dominant face each, >=
        ``min_enrol_face_px``); the photos must agree with each other and with templates
        already stored for that id. ``kind`` creates the gallery when it does not exist."""
        check_name(subject_id, "id")
        if not images:
            raise UsageError("enrolment needs at least one image")
        if len(images) > MAX_ENROL_IMAGES:
            raise UsageError(f"at most {MAX_ENROL_IMAGES} images per enrolment")
        g = (self.galleries.create(gallery, kind) if kind is not None
             and gallery not in self.galleries.names() else self.galleries.open(gallery))
        try:
            known = g.get_subject(subject_id)
        except UnknownSubject:
            known = None
        seen = {t.source_sha256 for t in known.templates} if known else set()
        fresh: list[tuple[str, bytes, str]] = []
        for name, data in images:  # the same photo twice adds nothing
            sha = sha256_hex(data)
            if sha not in seen:
                seen.add(sha)
                fresh.append((name, data, sha))
        faces: list[Face] = []
        for name, data, _ in fresh:
            face, _ = self.analyzer.one_face(data, name, min_side=self.config.min_enrol_face_px)
            faces.append(face)
        skipped = len(images) - len(fresh)
        if not fresh:
            return {"gallery": gallery, "id": subject_id,
                    "templates": len(known.templates) if known else 0, "added": 0,
                    "already_enrolled": skipped, "faces": []}
        emb = np.stack([f.embedding for f in faces])
        existing = known.embeddings() if known else np.zeros((0, 128), np.float32)
        pool = np.concatenate([existing, emb]) if len(existing) else emb
        bad = [i - len(existing) for i in inconsistent_members(pool, self.config.match_threshold)
               if i >= len(existing)]
        if bad:
            names = ", ".join(fresh[i][0] for i in bad)
            raise FaceInputError(f"enrolment refused: {names} do(es) not match the other photos "
                                 f"of {subject_id!r} (distance > {self.config.match_threshold})")
        subject = g.enroll(subject_id, emb, [sha for _, _, sha in fresh], display_name)
        self._ledger(new_id("fen"), "face_enrol", actor, gallery=gallery, id=subject_id,
                     photos=len(fresh))
        return {"gallery": gallery, "id": subject_id, "templates": len(subject.templates),
                "added": len(fresh), "already_enrolled": skipped,
                "faces": [f.box_json() for f in faces]}

    def remove(self, gallery: str, subject_id: str, actor: Actor) -> dict[str, Any]:
        removed = self.galleries.open(gallery).remove(subject_id)
        self._ledger(new_id("fen"), "face_remove", actor, gallery=gallery, id=subject_id)
        return {"gallery": gallery, "id": subject_id, "templates_removed": removed}

    def rebuild(self, gallery: str, large: IndexKind | None = None) -> dict[str, Any]:
        g = self.galleries.open(gallery)
        spec: IndexSpec | None = None
        if large is not None:
            spec = choose_spec(g.meta.templates, large=large)
        used = g.rebuild(spec)
        return {**describe(g.meta), "nlist": used.nlist, "nprobe": used.nprobe}

    def delete_gallery(self, gallery: str, actor: Actor) -> dict[str, Any]:
        n = self.galleries.delete(gallery)
        self._ledger(new_id("fen"), "face_gallery_delete", actor, gallery=gallery)
        return {"gallery": gallery, "blobs_deleted": n}

    # -- 1:N -----------------------------------------------------------------------------------
    def identify(self, gallery: str, data: bytes, actor: Actor, *, name: str = "image",
                 case_id: str | None = None, lane_id: str | None = None) -> dict[str, Any]:
        """Every face in the image against a gallery. Hits in a watchlist raise a high-severity
        finding (review queue + alarm) with the image as evidence; with no hit the image is
        kept only as an expiring encrypted probe."""
        g = self.galleries.open(gallery)
        case_id = case_id or new_id("fcs")
        analyzed = self.analyzer.analyze(data, name)
        thr = self.config.match_threshold
        results: list[dict[str, Any]] = []
        hits: list[tuple[Face, str, float]] = []
        if analyzed.faces:
            cands = g.search(np.stack([f.embedding for f in analyzed.faces]), k=1)
            for face, best in zip(analyzed.faces, cands, strict=True):
                top = best[0] if best else None
                hit = top is not None and top.distance <= thr
                entry: dict[str, Any] = {"box": face.box_json(), "match": None, "score": None}
                if top is not None:
                    entry["score"] = round(float(match_score(top.distance, thr)), 4)
                    entry["distance"] = round(top.distance, 4)
                if hit and top is not None:
                    entry["match"] = top.subject_id
                    hits.append((face, top.subject_id, top.distance))
                results.append(entry)
        out: dict[str, Any] = {"file": name, "gallery": gallery, "case_id": case_id,
                               "faces": results, "threshold": thr}
        findings: list[str] = []
        if hits:
            evidence = self._to_evidence(case_id, data, "watchlist probe")
            if g.meta.kind is GalleryKind.WATCHLIST:
                fid = self._submit(self._watchlist_finding(case_id, lane_id, gallery, hits,
                                                           evidence), raise_alarm=True)
                findings += [fid] if fid else []
        else:
            out["probe_id"] = self.probes.put(data)
        out["findings"] = findings
        self._ledger(case_id, "face_search", actor, gallery=gallery, faces=len(results),
                     hits=[sid for _, sid, _ in hits], probe_id=out.get("probe_id"))
        return out

    def _watchlist_finding(self, case_id: str, lane_id: str | None, gallery: str,
                           hits: list[tuple[Face, str, float]], evidence: list[str]) -> Finding:
        thr = self.config.match_threshold
        parts = [f"{sid} (distance {d:.3f} <= {thr:g})" for _, sid, d in hits]
        return Finding(
            case_id=case_id, type=FindingType.WATCHLIST_HIT, severity=Severity.HIGH,
            explanation=f"face matches watchlist {gallery!r}: " + "; ".join(parts),
            port_id=self.port_id, lane_id=lane_id, modality=Modality.FACE_CAMERA,
            detections=[Detection(label=f"watchlist:{gallery}:{sid}",
                                  score=float(match_score(d, thr)), box=f.box)
                        for f, sid, d in hits],
            evidence=evidence, model=MODEL_REF)

    # -- 1:1 -----------------------------------------------------------------------------------
    def verify(self, a: bytes, b: bytes, actor: Actor, *, names: tuple[str, str] = (
            "image_a", "image_b")) -> dict[str, Any]:
        fa, _ = self.analyzer.one_face(a, names[0])
        fb, _ = self.analyzer.one_face(b, names[1])
        d = float(distances(fa.embedding, fb.embedding)[0, 0])
        thr = self.config.match_threshold
        same = d <= thr
        self._ledger(new_id("fvr"), "face_verify", actor, same=same)
        return {"same": bool(same), "score": round(float(match_score(d, thr)), 4),
                "distance": round(d, 4), "threshold": thr,
                "faces": [fa.box_json(), fb.box_json()]}

    def verify_staff(self, gallery: str, badge_id: str, data: bytes, actor: Actor, *,
                     name: str = "image", lane_id: str | None = None,
                     case_id: str | None = None) -> dict[str, Any]:
        """Staff gate: the face must match the templates enrolled under ``badge_id`` in a staff
        register. A mismatch denies passage and queues a finding (no alarm)."""
        g = self.galleries.open(gallery)
        if g.meta.kind is not GalleryKind.STAFF:
            raise UsageError(f"gallery {gallery!r} is a {g.meta.kind.value}, not a staff register")
        templates = g.get_subject(badge_id).embeddings()
        case_id = case_id or new_id("fst")
        analyzed = self.analyzer.analyze(data, name)
        face = pick_one_face(analyzed, name, self.config.dominant_ratio)
        d = float(distances(face.embedding, templates).min())
        thr = self.config.match_threshold
        allow = d <= thr
        out: dict[str, Any] = {"decision": "allow" if allow else "deny", "badge_id": badge_id,
                               "same": bool(allow), "score": round(float(match_score(d, thr)), 4),
                               "distance": round(d, 4), "threshold": thr,
                               "box": face.box_json(), "case_id": case_id, "finding_id": None}
        if allow:
            out["probe_id"] = self.probes.put(data)
        else:
            evidence = self._to_evidence(case_id, data, "staff gate probe")
            out["finding_id"] = self._submit(Finding(
                case_id=case_id, type=FindingType.STAFF_VERIFICATION_FAILED,
                severity=Severity.MEDIUM,
                explanation=f"staff gate: face does not match badge {badge_id!r} in {gallery!r} "
                            f"(distance {d:.3f} > {thr:g}); passage denied",
                port_id=self.port_id, lane_id=lane_id, modality=Modality.FACE_CAMERA,
                detections=[Detection(label=f"staff:{gallery}:{badge_id}",
                                      score=float(match_score(d, thr)), box=face.box)],
                evidence=evidence, model=MODEL_REF), raise_alarm=False)
        self._ledger(case_id, "face_staff_verify", actor, gallery=gallery, badge_id=badge_id,
                     decision=out["decision"])
        return out

    # -- liveness ------------------------------------------------------------------------------
    def liveness(self, frames: list[tuple[str, bytes]], actor: Actor) -> dict[str, Any]:
        """Basic presentation-attack cues on 1-16 frames of one person (advisory)."""
        out = LivenessChecker(self.analyzer).check(frames)
        self._ledger(new_id("flv"), "face_liveness", actor, live=out["live"],
                     reasons=out["reasons"], frames=out["frames"])
        return out

    # -- privacy -------------------------------------------------------------------------------
    def purge_probes(self, now: float | None = None) -> dict[str, Any]:
        report = self.probes.purge(now)
        return {"deleted": report.deleted, "kept": report.kept,
                "cutoff_epoch_s": report.cutoff_epoch_s,
                "retention_hours": self.probes.retention_s / 3600.0}

    def blurred(self, data: bytes, name: str = "image") -> tuple[bytes, int]:
        """The image as PNG with every face (dlib detections and Haar candidates, for recall)
        redacted; returns ``(png bytes, number of regions blurred)``."""
        rgb = self.analyzer.decode(data, name)
        boxes = self.analyzer.detect(rgb).boxes
        if self._haar is None:
            self._haar = HaarPrefilter()
        regions = np.concatenate([boxes, self._haar.candidates(rgb)])
        out = blur_faces(rgb, regions)
        ok, png = cv2.imencode(".png", np.ascontiguousarray(out[:, :, ::-1]))
        if not ok:
            raise UsageError(f"{name}: could not encode the blurred image")
        return png.tobytes(), len(regions)
