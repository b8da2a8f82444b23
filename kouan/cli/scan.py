"""``kouan scan``: automated threat recognition on X-ray, CT and backscatter scans.

* ``scan analyze FILE... [--json]`` - one JSON object per scan: ``{"file", "modality",
  "detections": [{"label", "score", "box", "material"}], "threat_score", "findings"}``. Runs
  the detector on the configured Triton (``KOUAN_TRITON_URL``) or an embedded one
  (``--backend onnx``: in-process ONNX Runtime, same model file). Writes nothing.
* ``scan ingest SRC`` - a folder or ``s3://host:port/bucket/prefix`` through the Ray pipeline
  (local Ray, or ``RAY_ADDRESS``) into the review queue, alarm bus and evidence store;
  re-ingesting the same files adds nothing.

Files that do not exist exit 2. Unreadable scans are reported (``unreadable`` finding) and
make ``analyze`` exit 2 after every file was printed; ``ingest`` quarantines them.
"""

from __future__ import annotations

import json
import logging
from contextlib import ExitStack
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from kouan.errors import UsageError

scan_app = typer.Typer(help="Threat recognition on X-ray / CT / backscatter scans.",
                       no_args_is_help=True)


class Backend(StrEnum):
    triton = "triton"
    onnx = "onnx"


def _human(res: dict[str, Any]) -> str:
    lines = [f"{res['file']}: {res['modality']}" + (
        f", threat score {res['threat_score']:.3f}" if res["threat_score"] is not None else "")]
    for d in res["detections"]:
        lines.append(f"  {d['label']:<10} {d['score']:.2f} {d.get('material', ''):<12} "
                     f"box {[round(v) for v in d['box']]}")
    for f in res["findings"]:
        lines.append(f"  finding {f['type']} ({f['severity']}): {f['explanation']}")
    return "\n".join(lines)


@scan_app.command("analyze")
def analyze(
    files: Annotated[list[Path], typer.Argument(help="Scan files (a raw pair: both files).")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")]
    = False,
    backend: Annotated[Backend, typer.Option(help="triton (serving path) or onnx "
                                             "(in-process).")] = Backend.triton,
) -> None:
    """Analyse scans and print what was found."""
    from kouan.config import get_settings
    from pipelines.scan.analyze import ScanAnalyzer
    from pipelines.scan.cargo import CargoCalibration
    from pipelines.scan.decode import scan_refs
    from pipelines.scan.detector import Detector, OnnxDetector, TritonDetector
    from serving import xray_atr

    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise UsageError(f"no such file: {', '.join(missing)}")
    settings = get_settings()
    refs = scan_refs(list(files))
    try:
        cargo: CargoCalibration | None = CargoCalibration.load()
    except FileNotFoundError:
        cargo = None
    with ExitStack() as stack:
        try:
            card = xray_atr.load_card()
        except FileNotFoundError as exc:
            raise UsageError(str(exc)) from None
        detector: Detector
        if backend is Backend.onnx:
            detector = OnnxDetector()
        else:
            from serving.connect import triton_session

            logging.getLogger("serving").setLevel(logging.WARNING)
            client = stack.enter_context(triton_session(settings, models=[card.name]))
            detector = TritonDetector(client, card)
        results = ScanAnalyzer(detector, cargo, settings.port_code).analyze(refs)
    bad = 0
    for r in results:
        out = r.to_json()
        bad += int(r.error is not None)
        typer.echo(json.dumps(out, ensure_ascii=False) if as_json else _human(out))
    if bad:
        raise UsageError(f"{bad} of {len(results)} scan(s) unreadable (see their findings)")


@scan_app.command("ingest")
def ingest(
    src: Annotated[str, typer.Argument(help="Folder or s3://host:port/bucket/prefix.")],
    workers: Annotated[int, typer.Option(help="Ray actors (scan workers).")] = 2,
    batch_size: Annotated[int, typer.Option(help="Scans per actor batch.")] = 8,
) -> None:
    """Run the Ray scan pipeline over SRC into the review queue, alarms and evidence."""
    import tempfile

    import ray

    from kouan.config import get_settings
    from kouan.services import build_services
    from pipelines.scan.ingest import ingest_refs
    from pipelines.scan.sources import list_scans
    from serving import xray_atr
    from serving.connect import triton_session

    if workers < 1 or batch_size < 1:
        raise UsageError("--workers and --batch-size must be >= 1")
    if not src.startswith("s3://") and not Path(src).exists():
        raise UsageError(f"{src} does not exist")
    settings = get_settings()
    try:
        card = xray_atr.load_card()
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    with ExitStack() as stack:
        staging = Path(stack.enter_context(tempfile.TemporaryDirectory(
            prefix="scan-ingest-", dir=settings.data_dir if settings.data_dir.is_dir()
            else None)))
        refs = list_scans(src, settings, staging)
        if not refs:
            raise UsageError(f"no scan files under {src}")
        services = build_services(settings)
        stack.callback(services.close)
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        if not ray.is_initialized():
            ray.init(address=settings.ray_address, num_cpus=settings.ray_num_cpus,
                     include_dashboard=False, log_to_driver=False, configure_logging=False)
            stack.callback(ray.shutdown)
        client = stack.enter_context(triton_session(settings, models=[card.name]))
        report = ingest_refs(refs, services, client.url, workers=workers,
                             batch_size=batch_size)
        services.relay.relay_once()
    typer.echo(json.dumps(report.as_dict()))


def register(app: typer.Typer) -> None:
    app.add_typer(scan_app, name="scan")
