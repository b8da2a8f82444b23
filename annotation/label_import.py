"""Import COCO box labels made in CVAT or Label Studio back onto review items.

An image of the file is matched to a review item by, in order: a ``kouan_item_id`` field (our
own export), or a 64-hex sha256 anywhere in its ``file_name`` (CVAT keeps the exported name;
Label Studio prefixes uploads with ``<8 hex>-``), which must be the key of an image of some
item. Every matched image gets a new label revision (source ``import``, author
``import:<file name>``) holding exactly the file's boxes for it.

The whole file is checked before anything is written: a malformed file, a box with a negative
size or outside its image (beyond a 1 px rounding tolerance), or an unknown category id is
reported with its location and nothing is imported.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from annotation.boxes import LabelBox, check_boxes
from annotation.label_store import LabelStore
from annotation.media import MediaResolver, UnknownImage
from kouan.db.review import FindingRow, ReviewItemRow
from kouan.queue import ReviewQueue

_SHA_RE = re.compile(r"(?<![0-9a-f])([0-9a-f]{64})(?![0-9a-f])")
MAX_FILE_BYTES = 256 * 2**20
TOLERANCE_PX = 1.0


@dataclass
class Match:
    item_id: str
    image: str
    width: int
    height: int
    boxes: list[LabelBox]


def _load(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ValueError(f"{path} is not a file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"{path} is larger than {MAX_FILE_BYTES // 2**20} MB")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not JSON: {exc}") from None
    if not isinstance(doc, dict) or not all(isinstance(doc.get(k), list)
                                            for k in ("images", "annotations", "categories")):
        raise ValueError(f"{path} is not COCO: need lists 'images', 'annotations', 'categories'")
    return doc


def _int(obj: dict[str, Any], key: str, where: str) -> int:
    v = obj.get(key)
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"{where}: '{key}' must be an integer, got {v!r}")
    return v


def _images_by_sha(sessions: sessionmaker[Session]) -> dict[str, list[str]]:
    """Evidence sha256 -> review item ids whose finding lists it (one pass over findings)."""
    out: dict[str, list[str]] = {}
    stmt = select(ReviewItemRow.id, FindingRow.evidence).join(
        FindingRow, FindingRow.id == ReviewItemRow.finding_id)
    with sessions() as s:
        for item_id, evidence in s.execute(stmt):
            for sha in evidence or []:
                out.setdefault(sha, []).append(item_id)
    return out


def plan_import(path: Path, queue: ReviewQueue, media: MediaResolver,
                sessions: sessionmaker[Session]) -> tuple[list[Match], list[str]]:
    """Check the file and match its images; returns (matches, unmatched file names)."""
    doc = _load(path)
    cats: dict[int, str] = {}
    for i, c in enumerate(doc["categories"]):
        if not isinstance(c, dict) or not isinstance(c.get("name"), str):
            raise ValueError(f"categories[{i}] needs an id and a name")
        cats[_int(c, "id", f"categories[{i}]")] = c["name"].strip().replace(" ", "_")
    by_image: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    for i, a in enumerate(doc["annotations"]):
        if not isinstance(a, dict):
            raise ValueError(f"annotations[{i}] is not an object")
        by_image.setdefault(_int(a, "image_id", f"annotations[{i}]"), []).append((i, a))
    shas = _images_by_sha(sessions)
    matches: list[Match] = []
    unmatched: list[str] = []
    for n, im in enumerate(doc["images"]):
        if not isinstance(im, dict):
            raise ValueError(f"images[{n}] is not an object")
        image_id = _int(im, "id", f"images[{n}]")
        name = str(im.get("file_name", ""))
        m = _SHA_RE.search(name.lower()) or _SHA_RE.search(str(im.get("sha256", "")))
        item_ids = ([str(im["kouan_item_id"])] if im.get("kouan_item_id")
                    else shas.get(m.group(1), []) if m else [])
        if not m or not item_ids:
            unmatched.append(name or f"images[{n}]")
            continue
        for item_id in item_ids:
            entry = queue.get(item_id)
            try:
                img = media.media(entry.finding).image(m.group(1))
            except UnknownImage:
                raise ValueError(f"image {name!r}: {m.group(1)[:12]}... is evidence of item "
                                 f"{item_id} but not one of its viewable images") from None
            boxes = [_box(a, i, cats, img.width, img.height)
                     for i, a in by_image.get(image_id, [])]
            try:
                check_boxes(boxes, img.width, img.height)
            except ValueError as exc:
                raise ValueError(f"image {name!r}: {exc}") from None
            matches.append(Match(item_id, img.key, img.width, img.height, boxes))
    return matches, unmatched


def _box(a: dict[str, Any], i: int, cats: dict[int, str], w: int, h: int) -> LabelBox:
    where = f"annotations[{i}]"
    cat = _int(a, "category_id", where)
    if cat not in cats:
        raise ValueError(f"{where}: unknown category_id {cat}")
    bbox = a.get("bbox")
    if not (isinstance(bbox, list) and len(bbox) == 4
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in bbox)):
        raise ValueError(f"{where}: bbox must be [x, y, width, height] numbers")
    x, y, bw, bh = (float(v) for v in bbox)
    if bw <= 0 or bh <= 0:
        raise ValueError(f"{where}: bbox {bbox} has a negative or zero size")
    x1, y1, x2, y2 = x, y, x + bw, y + bh
    if x1 < -TOLERANCE_PX or y1 < -TOLERANCE_PX or x2 > w + TOLERANCE_PX \
            or y2 > h + TOLERANCE_PX:
        raise ValueError(f"{where}: bbox {bbox} lies outside the {w} x {h} image")
    box = (max(0.0, x1), max(0.0, y1), min(float(w), x2), min(float(h), y2))
    return LabelBox(label=cats[cat], box=box, origin="import")


def import_labels(path: Path, queue: ReviewQueue, media: MediaResolver, labels: LabelStore,
                  sessions: sessionmaker[Session], *, dry_run: bool = False) -> dict[str, Any]:
    """Import ``path``; returns counts and the unmatched names (ValueError if none match)."""
    matches, unmatched = plan_import(Path(path), queue, media, sessions)
    if not matches:
        raise ValueError(f"no image of {path} matches a review item (file names must contain "
                         "the image's sha256, as `kouan labels export` writes them)")
    if not dry_run:
        for m in matches:
            cur = labels.current(m.item_id).get(m.image)
            labels.save(m.item_id, m.image, m.boxes, author=f"import:{Path(path).name}"[:200],
                        source="import", base_revision=cur.revision if cur else 0,
                        width=m.width, height=m.height)
    return {"file": str(path), "images matched": len(matches), "unmatched": unmatched[:20],
            "unmatched count": len(unmatched), "boxes": sum(len(m.boxes) for m in matches),
            "written": not dry_run}
