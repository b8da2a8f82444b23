"""``kouan faces ...``: galleries, enrolment, 1:N identify, 1:1 verify, staff gate, privacy.

Model commands use the configured Triton (``KOUAN_TRITON_URL``, else an embedded one started
for the command with only the face models); ``--models local`` runs the same dlib code in
this process instead (no server; for offline tools). Every input file is read and decoded
before any model starts, so a bad file fails fast with exit 2 and a one-line reason.
"""

from __future__ import annotations

import contextlib
import getpass
import json
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from kouan.config import get_settings
from kouan.errors import KouanError, UsageError

faces_app = typer.Typer(help="Faces: watchlists (1:N), staff register (1:1), privacy.",
                        no_args_is_help=True)


class ModelsChoice(StrEnum):
    TRITON = "triton"
    LOCAL = "local"


class KindChoice(StrEnum):
    WATCHLIST = "watchlist"
    STAFF = "staff"


class LargeIndex(StrEnum):
    IVF_FLAT = "ivf_flat"
    IVF_PQ = "ivf_pq"
    HNSW = "hnsw"


GalleryOpt = Annotated[str, typer.Option("--gallery", "-g", help="Gallery name.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON output (one object per line).")]
ModelsOpt = Annotated[ModelsChoice, typer.Option(
    "--models", help="triton: the served models (default); local: dlib in this process.")]


def _actor() -> Any:
    from pipelines.faces.service import Actor

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor(f"cli:{user}", "cli")


def _read(paths: list[Path]) -> list[tuple[str, bytes]]:
    """Read and decode-check every file first (exit 2 on the first bad one)."""
    from vision.faces.decode import ImageDecodeError, decode_rgb

    out = []
    for p in paths:
        if not p.is_file():
            raise UsageError(f"{p}: no such file")
        data = p.read_bytes()
        try:
            decode_rgb(data)
        except ImageDecodeError as exc:
            raise UsageError(f"{p}: {exc}") from None
        out.append((str(p), data))
    return out


class _NoModels:
    """For commands that never run a model (listing, removal, purge, rebuild)."""

    name = "none"

    def detect(self, image: Any, upsample: int) -> Any:
        raise KouanError("internal: this command does not run face models")

    def embed(self, chips: Any) -> Any:
        raise KouanError("internal: this command does not run face models")


@contextlib.contextmanager
def _service(models: ModelsChoice | None) -> Iterator[Any]:
    from kouan.services import build_services
    from pipelines.faces.models import DETECTOR_MODEL, EMBEDDER_MODEL, LocalFaceModels
    from pipelines.faces.models import TritonFaceModels as Triton
    from pipelines.faces.service import FaceService

    settings = get_settings()
    services = build_services(settings)
    try:
        if models is None:
            yield FaceService.from_settings(settings, _NoModels(), evidence=services.evidence,
                                            queue=services.queue)
        elif models is ModelsChoice.LOCAL:
            yield FaceService.from_settings(settings, LocalFaceModels(),
                                            evidence=services.evidence, queue=services.queue)
        else:
            from serving.connect import triton_session

            with triton_session(settings, models=[DETECTOR_MODEL, EMBEDDER_MODEL]) as client:
                yield FaceService.from_settings(settings, Triton(client),
                                                evidence=services.evidence,
                                                queue=services.queue)
    finally:
        services.close()


def _emit(obj: Any, as_json: bool, line: str) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False) if as_json else line)


@faces_app.command("enroll")
def enroll(images: Annotated[list[Path], typer.Argument(help="Photos, one face each.")],
           gallery: GalleryOpt, subject_id: Annotated[str, typer.Option("--id", help=(
               "Subject id (a badge id in a staff register)."))],
           kind: Annotated[KindChoice | None, typer.Option(
               help="Create the gallery with this kind if it does not exist.")] = None,
           name: Annotated[str, typer.Option(help="Display name.")] = "",
           as_json: JsonOpt = False, models: ModelsOpt = ModelsChoice.TRITON) -> None:
    """Enrol a subject from one or more photos (they must agree with each other)."""
    from pipelines.faces.gallery import GalleryKind

    files = _read(images)
    with _service(models) as svc:
        out = svc.enroll(gallery, subject_id, files, _actor(),
                         kind=GalleryKind(kind.value) if kind else None, display_name=name)
    _emit(out, as_json, f"enrolled {out['id']} in {out['gallery']}: {out['added']} photo(s), "
                        f"{out['templates']} template(s)")


@faces_app.command("identify")
def identify(images: Annotated[list[Path], typer.Argument(help="Images to search.")],
             gallery: GalleryOpt, lane: Annotated[str | None, typer.Option(
                 help="Lane id for findings.")] = None,
             as_json: JsonOpt = False, models: ModelsOpt = ModelsChoice.TRITON) -> None:
    """Search every face of every image in a gallery (1:N). Watchlist hits raise findings."""
    files = _read(images)
    with _service(models) as svc:
        svc.galleries.read_meta(gallery)  # unknown gallery: exit 2 before any model work
        for name, data in files:
            out = svc.identify(gallery, data, _actor(), name=name, lane_id=lane)
            faces = [{"box": f["box"], "match": f["match"], "score": f["score"]}
                     for f in out["faces"]]
            line = f"{name}\t" + ("; ".join(
                f"{f['match'] or '-'} ({f['score'] if f['score'] is not None else '-'})"
                for f in faces) or "no face")
            _emit({"file": name, "faces": faces, "case_id": out["case_id"],
                   "findings": out["findings"]}, as_json, line)


@faces_app.command("verify")
def verify(image_a: Annotated[Path, typer.Argument()], image_b: Annotated[Path, typer.Argument()],
           as_json: JsonOpt = False, models: ModelsOpt = ModelsChoice.TRITON) -> None:
    """Are the faces in two images the same person? (one face per image)"""
    (na, a), (nb, b) = _read([image_a, image_b])
    with _service(models) as svc:
        out = svc.verify(a, b, _actor(), names=(na, nb))
    _emit({"same": out["same"], "score": out["score"]}, as_json,
          f"{'same' if out['same'] else 'different'} person (score {out['score']:.3f}, "
          f"distance {out['distance']:.3f}, threshold {out['threshold']:g})")


@faces_app.command("staff-verify")
def staff_verify(image: Annotated[Path, typer.Argument()], gallery: GalleryOpt,
                 badge: Annotated[str, typer.Option(help="Badge id presented at the gate.")],
                 lane: Annotated[str | None, typer.Option(help="Lane id.")] = None,
                 as_json: JsonOpt = False, models: ModelsOpt = ModelsChoice.TRITON) -> None:
    """Staff gate: check a face against the badge's enrolled photos (allow / deny)."""
    ((name, data),) = _read([image])
    with _service(models) as svc:
        out = svc.verify_staff(gallery, badge, data, _actor(), name=name, lane_id=lane)
    _emit(out, as_json, f"{out['decision']} badge {badge} (score {out['score']:.3f})")


@faces_app.command("liveness")
def liveness(frames: Annotated[list[Path], typer.Argument(help=(
        "1-16 frames of one person in time order (2+ add the motion cue)."))],
        as_json: JsonOpt = False, models: ModelsOpt = ModelsChoice.TRITON) -> None:
    """Basic presentation-attack cues (photo / screen replay). Advisory, with measured limits."""
    files = _read(frames)
    with _service(models) as svc:
        out = svc.liveness(files, _actor())
    verdict = {True: "live", False: "attack suspected", None: "inconclusive"}[out["live"]]
    _emit(out, as_json, f"{verdict}: {'; '.join(out['reasons']) or 'no cue fired'} "
                        f"{json.dumps(out['cues'])}")


@faces_app.command("galleries")
def galleries(as_json: JsonOpt = False) -> None:
    """List galleries with their kind, size and index type."""
    with _service(None) as svc:
        for g in svc.list_galleries():
            _emit(g, as_json, f"{g['name']}\t{g['kind']}\t{g['subjects']} subjects\t"
                              f"{g['templates']} templates\t{g['index']}")


@faces_app.command("remove")
def remove(gallery: GalleryOpt, subject_id: Annotated[str, typer.Option("--id")],
           as_json: JsonOpt = False) -> None:
    """Delete a subject and its templates from a gallery."""
    with _service(None) as svc:
        out = svc.remove(gallery, subject_id, _actor())
    _emit(out, as_json, f"removed {subject_id} ({out['templates_removed']} templates)")


@faces_app.command("rebuild")
def rebuild(gallery: GalleryOpt, large: Annotated[LargeIndex | None, typer.Option(
        help="Index kind above the exact-search size (default ivf_flat).")] = None,
        as_json: JsonOpt = False) -> None:
    """Rebuild a gallery's FAISS index from its encrypted templates."""
    from pipelines.faces.index import IndexKind

    with _service(None) as svc:
        out = svc.rebuild(gallery, IndexKind(large.value) if large else None)
    _emit(out, as_json, f"{gallery}: {out['templates']} templates, index {out['index']}")


@faces_app.command("delete-gallery")
def delete_gallery(gallery: GalleryOpt, yes: Annotated[bool, typer.Option(
        "--yes", help="Really delete every template of the gallery.")] = False) -> None:
    """Delete a gallery and all its templates."""
    if not yes:
        raise UsageError("deleting a gallery needs --yes")
    with _service(None) as svc:
        out = svc.delete_gallery(gallery, _actor())
    typer.echo(f"deleted {gallery} ({out['blobs_deleted']} objects)")


@faces_app.command("purge")
def purge(as_json: JsonOpt = False) -> None:
    """Delete probe images that hit nothing and are older than the retention."""
    with _service(None) as svc:
        out = svc.purge_probes()
    _emit(out, as_json, f"deleted {out['deleted']} probe(s), kept {out['kept']} "
                        f"(retention {out['retention_hours']:g} h)")


@faces_app.command("blur")
def blur(image: Annotated[Path, typer.Argument()],
         out: Annotated[Path, typer.Option("--out", "-o", help="Output PNG.")],
         models: ModelsOpt = ModelsChoice.TRITON) -> None:
    """Write a copy of the image with every face redacted (for roles without identity)."""
    ((name, data),) = _read([image])
    with _service(models) as svc:
        png, regions = svc.blurred(data, name)
    out.write_bytes(png)
    typer.echo(f"{out}: {regions} region(s) blurred")


@faces_app.command("calibrate")
def calibrate(realdata: Annotated[Path, typer.Option(help="realdata/faces folder.")] = Path(
                  "../shared/realdata/faces"),
              plot: Annotated[Path | None, typer.Option(help="ROC PNG to write.")] = None,
              report: Annotated[Path | None, typer.Option(help="JSON report to write.")] = None,
              models: ModelsOpt = ModelsChoice.TRITON) -> None:
    """ROC, TAR at FAR 1e-2/1e-3 and cross-validated accuracy on the real pairs."""
    from pipelines.faces.calibrate import calibrate as run
    from pipelines.faces.calibrate import plot_roc

    if not (realdata / "pairs.csv").is_file():
        raise UsageError(f"{realdata}: no pairs.csv")
    with _service(models) as svc:
        rep, scored = run(svc.analyzer, realdata)
    text = json.dumps(rep, indent=1)
    if report:
        report.write_text(text + "\n", encoding="utf-8")
    if plot:
        plot_roc(scored, plot, svc.config.match_threshold)
    typer.echo(text)


def register(app: typer.Typer) -> None:
    app.add_typer(faces_app, name="faces")
