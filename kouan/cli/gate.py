"""``kouan plates read`` and ``kouan containers read``: the gate readers on image files.

Both use the configured Triton (``KOUAN_TRITON_URL``, else an embedded one started for the
command with only the models they need). Every file is decoded before Triton starts, so a bad
file fails fast with exit 2 and a one-line reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from kouan.config import get_settings
from kouan.errors import UsageError

plates_app = typer.Typer(help="Licence plates (China, Mongolia).", no_args_is_help=True)
containers_app = typer.Typer(help="ISO 6346 container codes.", no_args_is_help=True)

ImagesArg = Annotated[list[Path], typer.Argument(help="Image files (JPEG, PNG, BMP, WEBP).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON object per line.")]


def _load(paths: list[Path]) -> list[Any]:
    from pipelines.gate.images import decode_image

    images = []
    for p in paths:
        if not p.is_file():
            raise UsageError(f"{p}: no such file")
        images.append(decode_image(p.read_bytes(), str(p)))
    return images


def _emit(obj: dict[str, Any], as_json: bool, line: str) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False) if as_json else line)


@plates_app.command("read")
def read_plates(images: ImagesArg, as_json: JsonOpt = False) -> None:
    """Find and read the best plate in each image: text, confidence, box (x1 y1 x2 y2), type."""
    from pipelines.gate.ocr import GateOcr
    from pipelines.gate.plates import PlateReader
    from serving import gate_models
    from serving.connect import triton_session

    decoded = _load(images)
    models = gate_models.gate_models_needed(plates=True)
    with triton_session(get_settings(), models=models) as client:
        reader = PlateReader(GateOcr.from_repository(client))
        for path, img in zip(images, decoded, strict=True):
            found = reader.read(img)
            best = found[0] if found else None
            obj = {"file": str(path), "plate": best.text if best else None,
                   "confidence": round(best.reading.confidence, 4) if best else 0.0,
                   "box": [round(v, 1) for v in best.box] if best else None,
                   "type": best.reading.plate_type if best else None}
            _emit(obj, as_json, f"{path}\t{obj['plate'] or '-'}\t{obj['confidence']:.3f}\t"
                                f"{obj['type'] or '-'}")


@containers_app.command("read")
def read_containers(images: ImagesArg, as_json: JsonOpt = False) -> None:
    """Find and read the container codes in each image, with check-digit status and size/type."""
    from pipelines.gate.containers import ContainerReader
    from pipelines.gate.ocr import GateOcr
    from serving import gate_models
    from serving.connect import triton_session

    decoded = _load(images)
    models = gate_models.gate_models_needed(plates=False)
    with triton_session(get_settings(), models=models) as client:
        reader = ContainerReader(GateOcr.from_repository(client))
        for path, img in zip(images, decoded, strict=True):
            res = reader.read(img)
            codes = [{"code": c.code, "check_digit_ok": c.check_digit_ok,
                      "size_type": c.size_type.code if c.size_type else None,
                      "confidence": round(c.confidence, 4)} for c in res.codes]
            line = f"{path}\t" + (" ".join(
                f"{c['code']}{'' if c['check_digit_ok'] else '?'}" for c in codes) or "-")
            _emit({"file": str(path), "codes": codes}, as_json, line)


def register(app: typer.Typer) -> None:
    app.add_typer(plates_app, name="plates")
    app.add_typer(containers_app, name="containers")
