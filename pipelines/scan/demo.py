"""Scan ATR for ``kouan demo``: generated and real scans through the Ray pipeline, embedded
(or configured) Triton, the review queue, the alarm outbox and the evidence store.

Inputs (written to a temporary folder): three generated baggage raw pairs, four generated
truck scans with declarations (empty and empty, empty but loaded, coal declared as textiles,
coal declared as coal), one dual-energy CT volume, one truncated PNG, and real SIXray
pseudo-colour scans (two with threats, two benign) copied byte for byte. The pipeline is run
twice to show that re-ingesting adds nothing.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from kouan.services import Services
from pipelines.scan.analyze import ScanResult
from pipelines.scan.decode import scan_refs
from pipelines.scan.ingest import ingest_refs
from pipelines.scan.samples import write_samples
from pipelines.scan.sources import folder_files
from serving.client import InferenceClient

REAL = ("sixray_white", "negatives")


def _real_files(realdata_dir: Path) -> list[Path]:
    base = realdata_dir / "xray_baggage"
    out: list[Path] = []
    for sub in REAL:
        out += sorted((base / sub).glob("*.jpg"))[:2]
    return out


def run_demo(services: Services, triton_client: InferenceClient, realdata_dir: Path
             ) -> dict[str, Any]:
    """Run the scan pipeline on ~14 scans (Ray must be initialised); returns a summary."""
    t0 = time.perf_counter()
    url = getattr(triton_client, "url", None)
    if not isinstance(url, str):
        raise ValueError("run_demo needs a Triton client with a url (Ray actors connect to it)")
    with tempfile.TemporaryDirectory(prefix="scan-demo-") as tmp:
        folder = Path(tmp)
        write_samples(folder, bags=3, ct=1)
        for f in _real_files(realdata_dir):
            shutil.copyfile(f, folder / f"real_{f.parent.name}_{f.name}")
        refs = scan_refs(folder_files(folder))
        seen: list[ScanResult] = []
        first = ingest_refs(refs, services, url, workers=2, batch_size=4,
                            on_result=seen.append)
        queued = services.queue.count()
        second = ingest_refs(refs, services, url, workers=2, batch_size=4)
        added = services.queue.count() - queued
    real = {r.ref.name: r.threat_score for r in seen if r.ref.name.startswith("real_")}
    return {
        "scans": first.scans,
        "scans/s (incl. sinks)": round(first.scans_per_s, 2),
        "findings by type": first.sinks["by_type"],
        "alarms queued": first.sinks["alarms"],
        "unreadable quarantined": first.sinks["unreadable"],
        "re-ingest: new cases / review items added": f"{second.sinks['new_cases']} / {added}",
        "real threat scores": {k.replace("real_", ""): round(v, 3) for k, v in real.items()
                               if v is not None},
        "seconds": round(time.perf_counter() - t0, 1),
    }
