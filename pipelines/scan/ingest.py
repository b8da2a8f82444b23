"""``kouan scan ingest SRC``: scans -> Ray Data actors (decode, preprocess, batched Triton
inference, post-process, rules) -> sinks in the driver (review queue, alarms, evidence).

Each actor holds one Triton client, the model card and the cargo calibration; Ray Data feeds
it batches of scans; Triton's dynamic batcher merges the actors' requests. Results stream back
to the driver, which writes them through :mod:`pipelines.scan.sinks` (the review queue and the
evidence ledger are transactional stores; one writer keeps SQLite happy, and PostgreSQL / S3
deployments get the same semantics). Runs on the local Ray or on the cluster at
``RAY_ADDRESS`` (the caller initialises Ray).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kouan.domain import Finding
from kouan.services import Services
from pipelines.scan.analyze import ScanResult
from pipelines.scan.decode import ScanRef
from pipelines.scan.sinks import SinkReport, write_result

log = logging.getLogger(__name__)


def _ref_row(ref: ScanRef) -> dict[str, Any]:
    return {"name": ref.name, "paths": json.dumps([str(p) for p in ref.paths]),
            "meta": json.dumps(ref.meta)}


def _row_ref(row: dict[str, Any]) -> ScanRef:
    return ScanRef(str(row["name"]), tuple(Path(p) for p in json.loads(row["paths"])),
                   json.loads(row["meta"]))


class _ScanActor:
    """Ray Data callable class: a batch of scan refs -> serialised results."""

    def __init__(self, triton_url: str, port_id: str, repo: str | None, timeout_s: float,
                 retries: int) -> None:
        from pipelines.scan.analyze import ScanAnalyzer
        from pipelines.scan.cargo import CargoCalibration
        from pipelines.scan.detector import TritonDetector
        from serving import xray_atr
        from serving.client import TritonClient

        client = TritonClient(triton_url, timeout_s=timeout_s, retries=retries)
        card = xray_atr.load_card(Path(repo) if repo else None)
        try:
            cargo = CargoCalibration.load()
        except FileNotFoundError:
            cargo = None
        self._analyzer = ScanAnalyzer(TritonDetector(client, card), cargo, port_id)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        n = len(batch["name"])
        refs = [_row_ref({k: batch[k][i] for k in ("name", "paths", "meta")}) for i in range(n)]
        results = self._analyzer.analyze(refs)
        return {
            "name": [r.ref.name for r in results],
            "paths": [json.dumps([str(p) for p in r.ref.paths]) for r in results],
            "meta": [json.dumps(r.ref.meta) for r in results],
            "result": [json.dumps(_encode(r)) for r in results],
            "capture": [r.capture for r in results],
            "png": [r.reviewer_png or b"" for r in results],
        }


def _encode(r: ScanResult) -> dict[str, Any]:
    return {"modality": r.modality, "sha256": r.sha256, "detections": r.detections,
            "threat_score": r.threat_score, "extra": r.extra, "error": r.error,
            "media_type": r.media_type, "model": list(r.model) if r.model else None,
            "findings": [f.model_dump(mode="json") for f in r.findings]}


def _decode(row: dict[str, Any]) -> ScanResult:
    d = json.loads(row["result"])
    return ScanResult(
        ref=_row_ref(row), modality=d["modality"], sha256=d["sha256"],
        detections=d["detections"], threat_score=d["threat_score"],
        findings=[Finding.model_validate(f) for f in d["findings"]], extra=d["extra"],
        error=d["error"], capture=bytes(row["capture"]), media_type=d["media_type"],
        reviewer_png=bytes(row["png"]) or None,
        model=(d["model"][0], d["model"][1]) if d["model"] else None)


@dataclass
class IngestReport:
    scans: int
    seconds: float
    scans_per_s: float
    sinks: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"scans": self.scans, "seconds": round(self.seconds, 2),
                "scans_per_s": round(self.scans_per_s, 2), **self.sinks}


def ingest_refs(refs: list[ScanRef], services: Services, triton_url: str, *, workers: int = 2,
                batch_size: int = 8, repo: Path | None = None,
                on_result: Callable[[ScanResult], None] | None = None,
                write: bool = True) -> IngestReport:
    """Run the pipeline over ``refs`` (Ray must be initialised) and write the sinks."""
    import ray.data

    if workers < 1 or batch_size < 1:
        raise ValueError("workers and batch_size must be >= 1")
    t0 = time.perf_counter()
    report = SinkReport()
    if refs:
        settings = services.settings
        # one block per batch: results stream to the sinks as each batch is done (a finding
        # reaches a reviewer seconds after its scan, not after a fraction of the whole run)
        ds = ray.data.from_items([_ref_row(r) for r in refs],
                                 override_num_blocks=max(1, -(-len(refs) // batch_size)))
        out = ds.map_batches(
            _ScanActor,
            fn_constructor_kwargs={"triton_url": triton_url, "port_id": settings.port_code,
                                   "repo": str(repo) if repo else None,
                                   "timeout_s": settings.triton_timeout_s,
                                   "retries": settings.triton_retries},
            compute=ray.data.ActorPoolStrategy(size=workers),
            batch_size=batch_size, num_cpus=0.5)
        for row in out.iter_rows():
            res = _decode(row)
            if write:
                write_result(services, res, report)
            else:
                report.scans += 1
            if on_result is not None:
                on_result(res)
    dt = time.perf_counter() - t0
    return IngestReport(len(refs), dt, len(refs) / dt if dt > 0 else 0.0, report.as_dict())
