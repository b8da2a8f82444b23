"""``kouan demo``: the main job on embedded defaults (or on whatever services are configured).

It starts what the settings say (embedded Triton unless ``KOUAN_TRITON_URL``, local Ray unless
``RAY_ADDRESS``, SQLite, the local evidence directory and the local bus unless configured), runs
every capability that is built over real or generated inputs, relays the alarms, seals the
evidence ledger, verifies it, and prints what it did. Each section reports only what it ran.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from kouan.config import Settings
from kouan.errors import KouanError
from kouan.realdata import realdata_dir
from kouan.services import Services, build_services

log = logging.getLogger(__name__)


@dataclass
class DemoContext:
    settings: Settings
    services: Services
    triton: Any  # serving.client.TritonClient (typed loosely: kouan core stays serving-free)
    triton_url: str
    realdata: Path


@dataclass
class SectionResult:
    title: str
    seconds: float
    summary: dict[str, Any] = field(default_factory=dict)


Section = tuple[str, Callable[[DemoContext], dict[str, Any]]]


def _plate_ocr(ctx: DemoContext) -> dict[str, Any]:
    """Real plate crops -> Ray Data actors -> Triton ppocr_rec -> evidence (capture + inference)."""
    import csv

    from pipelines.ocr.batch import ocr_files
    from serving import ppocr

    crops_dir = ctx.realdata / "plates_cn" / "lprnet_crops"
    truth = {}
    with (ctx.realdata / "plates_cn" / "labels.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            truth[row["file"]] = row["plate_text"]
    paths = sorted(crops_dir.glob("*.jpg"))
    if not paths:
        raise KouanError(f"no plate crops under {crops_dir}")
    results = ocr_files(paths, ctx.triton_url, workers=2)
    exact = 0
    case_id = "demo-plate-ocr"
    for p, r in zip(paths, results, strict=True):
        data = p.read_bytes()
        sha = ctx.services.evidence.put_capture(case_id, data, "image/jpeg",
                                                {"file": p.name, "modality": "plate_camera"})
        ctx.services.evidence.record_inference(
            case_id, ppocr.MODEL_NAME, str(ppocr.VERSION), sha,
            {"text": r.text, "confidence": round(r.confidence, 4), "error": r.error})
        gt = truth.get(f"lprnet_crops/{p.name}", p.stem)
        exact += int(r.text.replace("·", "") == gt)
    return {"crops read": len(results), "exact plate reads": f"{exact}/{len(results)}",
            "model": f"{ppocr.MODEL_NAME} v{ppocr.VERSION} via Triton",
            "evidence case": case_id}


def _generated_scans(ctx: DemoContext) -> dict[str, Any]:
    """Physics-based dual-energy baggage, cargo, backscatter and CT scans with ground truth."""
    from datasets.synth.demo import demo_scans

    return demo_scans(ctx.settings.data_dir / "demo" / "scans")


def _review_queue(ctx: DemoContext) -> dict[str, Any]:
    """Queue synthetic bags, a cargo scan with its declaration and real images for review."""
    from annotation.demo import seed_review_demo

    return seed_review_demo(ctx.services, ctx.realdata)


def _scan_atr(ctx: DemoContext) -> dict[str, Any]:
    """Generated and real scans through the Ray scan pipeline: threats, empty-container and
    manifest findings, CT segmentation, a quarantined corrupt file, idempotent re-ingest."""
    from pipelines.scan.demo import run_demo as scan_demo

    return scan_demo(ctx.services, ctx.triton, ctx.realdata)


def _patrol_video(ctx: DemoContext) -> dict[str, Any]:
    """A patrol-robot stream with a restricted-zone intrusion, and a real perimeter clip."""
    from pipelines.video.demo import run_demo as video_demo

    return video_demo(ctx.services, ctx.triton, ctx.realdata)


def _smart_gate(ctx: DemoContext) -> dict[str, Any]:
    """Lane passages: plates and container codes read through Triton, matched to declarations."""
    from pipelines.gate.demo import run_demo as gate_demo

    return gate_demo(ctx.services, ctx.triton, ctx.realdata)


def _faces(ctx: DemoContext) -> dict[str, Any]:
    """A staff gate (allow, deny) and a watchlist check (hit, miss) on real faces."""
    from pipelines.faces.demo import run_demo as faces_demo

    return faces_demo(ctx.services, ctx.triton, ctx.realdata)


def sections() -> list[Section]:
    """The capabilities the demo runs, in order (each added when it is built)."""
    return [
        ("Plate OCR: Ray + Triton (real crops)", _plate_ocr),
        ("Synthetic scans: X-ray, cargo, backscatter, CT", _generated_scans),
        ("Review queue: scans for reviewers", _review_queue),
        ("Scan ATR: Ray pipeline, Triton detector, findings", _scan_atr),
        ("Smart gate: plates, containers, declarations", _smart_gate),
        ("Faces: staff gate and watchlist", _faces),
        ("Perimeter and patrol video", _patrol_video),
    ]


def _finish(ctx: DemoContext) -> dict[str, Any]:
    """Relay alarms from the outbox, let the local consumers acknowledge, seal and verify."""
    svc = ctx.services
    relayed = svc.relay.relay_once()
    segments = svc.evidence.seal()
    report = svc.evidence.verify()
    if not report.ok:
        raise KouanError("evidence verification failed after the demo:\n" + report.text())
    return {"alarms relayed": relayed.published,
            "review items queued": svc.queue.count(),
            "ledger segments sealed": len(segments),
            "evidence verify": f"intact ({report.records_checked} records, "
                               f"{report.objects_checked} objects)"}


def run_demo(settings: Settings, *, realdata: Path | None = None,
             console: Console | None = None) -> list[SectionResult]:
    """Run every section; raise on the first failure (the demo never hides a broken part)."""
    import ray
    import ray.data

    from serving.connect import triton_session

    console = console or Console()
    realdata = realdata or realdata_dir()
    if not realdata.is_dir():
        raise KouanError(f"real sample data not found at {realdata}")
    results: list[SectionResult] = []
    services = build_services(settings)
    started_ray = False
    try:
        # Ray Data's per-dataset progress logs drown the summary; the spinner shows progress.
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        ray.data.DataContext.get_current().enable_progress_bars = False
        if not ray.is_initialized():
            ray.init(address=settings.ray_address, num_cpus=settings.ray_num_cpus,
                     include_dashboard=False, log_to_driver=False, configure_logging=False)
            started_ray = True
        with console.status("starting Triton"):
            triton = triton_session(settings)
            client = triton.__enter__()
        try:
            ctx = DemoContext(settings, services, client, client.url, realdata)
            for title, fn in sections():
                t0 = time.perf_counter()
                with console.status(title):
                    summary = fn(ctx)
                results.append(SectionResult(title, time.perf_counter() - t0, summary))
                console.print(f"[green]✓[/green] {title} ({results[-1].seconds:.1f} s)")
            t0 = time.perf_counter()
            results.append(SectionResult("Alarms, ledger seal and verify",
                                         0.0, _finish(ctx)))
            results[-1].seconds = time.perf_counter() - t0
        finally:
            triton.__exit__(None, None, None)
    finally:
        services.close()
        if started_ray:
            ray.shutdown()
    return results


def _compact(value: Any, width: int = 110) -> str:
    """One readable line per item: scalars as they are, nested parts shortened."""

    def flat(v: Any) -> str:
        if isinstance(v, dict):
            text = ", ".join(f"{k}={flat(x)}" for k, x in v.items()
                             if not isinstance(x, dict | list) or len(str(x)) < 40)
        elif isinstance(v, list):
            text = "[" + ", ".join(flat(x) for x in v) + "]"
        else:
            text = str(v)
        return text if len(text) <= width else text[:width - 1] + "…"

    if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
        return f"{len(value)}\n" + "\n".join(f"  - {flat(x)}" for x in value)
    return flat(value)


def print_summary(results: list[SectionResult], settings: Settings, console: Console) -> None:
    table = Table("section", "what it did", "s", title="Kouan demo summary", show_lines=True)
    for r in results:
        lines = "\n".join(f"{k}: {_compact(v)}" for k, v in r.summary.items())
        table.add_row(r.title, lines, f"{r.seconds:.1f}")
    console.print(table)
    console.print(f"data dir: {settings.data_dir}")
