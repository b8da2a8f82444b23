"""Export reviewed labels as a training dataset (COCO or YOLO).

Which items: decided ones, ``confirmed`` and ``dismissed`` by default (an escalated item has
no settled answer yet). Which boxes, per image of an item:

* the latest saved revision when a reviewer (or an import) saved boxes;
* otherwise, for a confirmed item, the model's boxes on its first image (the reviewer kept
  them as they were), and for a dismissed item none (a false alarm: the image is a negative).

Images are written as 8-bit PNG renderings (dual energy: the pseudo-colour view; CT: the axial
MIP), named by the sha256 of the evidence object, so the file name finds its way back on
import. Dual-energy images also get their raw channels as 16-bit PNGs (``raw_low``,
``raw_high``, ``raw_encoding`` in the COCO image entry: the layout of
:mod:`datasets.synth.export`, which the detector's data loader reads); CT objects are copied to
``raw/`` (``raw_file``). An image shared by several items is written once, with the labels of
the item decided last.

Layouts::

    COCO: out/annotations.json, out/images/<sha256>.png, out/raw/<sha256>_{low,high}.png
    YOLO: out/images/<sha256>.png, out/labels/<sha256>.txt (class cx cy w h, normalised),
          out/classes.txt, out/data.yaml
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from annotation.boxes import LabelBox
from annotation.label_store import LabelStore
from annotation.media import MediaResolver
from annotation.scan_decode import ScanImage, sniff
from annotation.triage import LABEL_CLASSES
from annotation.views import available_views, encode_png
from annotation.workstation import model_boxes
from datasets.synth.coco_writer import CocoWriter
from kouan.domain import ReviewStatus
from kouan.queue import QueueFilter, ReviewEntry, ReviewQueue
from vision.xray.transmission import encode_raw16

Format = Literal["coco", "yolo"]
DEFAULT_STATUSES = frozenset({ReviewStatus.CONFIRMED, ReviewStatus.DISMISSED})


@dataclass
class Sample:
    """One exported image with its final boxes and where they came from."""

    item: ReviewEntry
    image: ScanImage
    boxes: list[LabelBox]
    revision: int
    raw: bytes | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _entries(queue: ReviewQueue, statuses: frozenset[ReviewStatus]) -> list[ReviewEntry]:
    out: list[ReviewEntry] = []
    filt = QueueFilter(statuses=statuses)
    while True:
        page = queue.list_items(filt, order="oldest", limit=1000, offset=len(out))
        out.extend(page)
        if len(page) < 1000:
            return out


def collect(queue: ReviewQueue, labels: LabelStore, media: MediaResolver,
            statuses: frozenset[ReviewStatus] = DEFAULT_STATUSES) -> list[Sample]:
    """The samples to export, one per distinct image (the last decided item wins)."""
    entries = sorted(_entries(queue, statuses),
                     key=lambda e: (e.item.decided_at or e.created_at, e.item.id))
    saved = labels.current_many([e.item.id for e in entries])
    by_image: dict[str, Sample] = {}
    for e in entries:
        m = media.media(e.finding)
        for i, img in enumerate(m.images):
            cur = saved.get(e.item.id, {}).get(img.key)
            if cur is not None:
                boxes, rev = cur.boxes, cur.revision
            elif e.item.status is ReviewStatus.CONFIRMED and i == 0:
                boxes, rev = model_boxes(e, img), 0
            else:
                boxes, rev = [], 0
            by_image[img.key] = Sample(e, img, boxes, rev)
    return list(by_image.values())


def _display(img: ScanImage, media: MediaResolver) -> Any:
    return media.view(img, available_views(img)[0])


def _categories(samples: list[Sample]) -> list[str]:
    used = {b.label for s in samples for b in s.boxes}
    return [c for c in LABEL_CLASSES if c in used] + sorted(used - set(LABEL_CLASSES))


def _prepare(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} exists and is not a directory")
    marker = [p for p in ("annotations.json", "data.yaml") if (out / p).exists()]
    if marker and not overwrite:
        raise ValueError(f"{out} already holds an export ({marker[0]}); use --overwrite")
    (out / "images").mkdir(parents=True, exist_ok=True)


def _write_image(out: Path, s: Sample, media: MediaResolver,
                 fetch_raw: Any) -> dict[str, Any]:
    name = f"images/{s.image.key}.png"
    (out / name).write_bytes(encode_png(_display(s.image, media), compression=3))
    extra: dict[str, Any] = {
        "kouan_item_id": s.item.item.id, "kouan_finding_id": s.item.finding.id,
        "kouan_status": s.item.item.status.value, "kouan_label_revision": s.revision,
        "sha256": s.image.key, "kind": s.image.kind}
    img = s.image
    if img.kind == "dual_energy" and img.low is not None and img.high is not None:
        # the layout of datasets.synth.export, which the detector's data loader reads
        (out / "raw").mkdir(exist_ok=True)
        for channel, arr in (("low", img.low), ("high", img.high)):
            rel = f"raw/{img.key}_{channel}.png"
            (out / rel).write_bytes(encode_png(encode_raw16(arr, img.encoding),  # type: ignore[arg-type]
                                               compression=3))
            extra[f"raw_{channel}"] = rel
        extra["raw_encoding"] = img.encoding
    elif img.kind == "ct":
        data = fetch_raw(img.key)
        if sniff(data) == "npz":
            (out / "raw").mkdir(exist_ok=True)
            (out / f"raw/{img.key}.npz").write_bytes(data)
            extra["raw_file"] = f"raw/{img.key}.npz"
    return {"file_name": name, **extra}


def export_labels(queue: ReviewQueue, labels: LabelStore, media: MediaResolver, fetch_raw: Any,
                  out: Path, fmt: Format, *,
                  statuses: frozenset[ReviewStatus] = DEFAULT_STATUSES,
                  overwrite: bool = False) -> dict[str, Any]:
    """Write the dataset; returns a summary. ``fetch_raw(sha) -> bytes`` reads evidence."""
    if fmt not in ("coco", "yolo"):
        raise ValueError(f"unknown format {fmt!r}: choose coco or yolo")
    out = Path(out)
    _prepare(out, overwrite)
    samples = collect(queue, labels, media, statuses)
    cats = _categories(samples)
    n_boxes = sum(len(s.boxes) for s in samples)
    if fmt == "coco":
        coco = CocoWriter(cats, {"description": "Kouan reviewed labels",
                                 "statuses": sorted(st.value for st in statuses)})
        for s in samples:
            info = _write_image(out, s, media, fetch_raw)
            image_id = coco.add_image(info.pop("file_name"), s.image.height, s.image.width,
                                      **info)
            for b in s.boxes:
                attrs: dict[str, Any] = {"origin": b.origin}
                if b.score is not None:
                    attrs["score"] = b.score
                coco.add_annotation(image_id, b.label, b.box, **attrs)
        coco.write(out / "annotations.json")
    else:
        (out / "labels").mkdir(exist_ok=True)
        for s in samples:
            _write_image(out, s, media, fetch_raw)
            w, h = s.image.width, s.image.height
            lines = [f"{cats.index(b.label)} {(b.box[0] + b.box[2]) / 2 / w:.6f} "
                     f"{(b.box[1] + b.box[3]) / 2 / h:.6f} {(b.box[2] - b.box[0]) / w:.6f} "
                     f"{(b.box[3] - b.box[1]) / h:.6f}" for b in s.boxes]
            (out / f"labels/{s.image.key}.txt").write_text(
                "\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
        (out / "classes.txt").write_text("\n".join(cats) + "\n", encoding="utf-8")
        names = ", ".join(json.dumps(c) for c in cats)
        (out / "data.yaml").write_text(
            f"# Kouan reviewed labels ({len(samples)} images)\npath: .\ntrain: images\n"
            f"val: images\nnc: {len(cats)}\nnames: [{names}]\n", encoding="utf-8")
    return {"format": fmt, "out": str(out), "images": len(samples), "boxes": n_boxes,
            "classes": cats,
            "negatives": sum(1 for s in samples if not s.boxes)}
