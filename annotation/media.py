"""What a reviewer sees of a finding: its images, declarations and other attachments, read from
the evidence store and decoded once per process (byte-bounded LRU caches).

Capture metadata (``media_type``, ``meta``) comes from the ``capture_stored`` ledger entries of
the finding's case; it is only needed to pair separately stored low/high energy channels.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from annotation.lru import ByteLRU
from annotation.scan_decode import (
    Declaration,
    ScanImage,
    UnsupportedObject,
    decode_declaration,
    decode_image,
    decode_raster,
    dual_energy_from_arrays,
    sniff,
)
from annotation.views import (
    TileGrid,
    available_views,
    cut_tile,
    downscale,
    encode_png,
    projected_boxes,
    render_all_dual,
    render_pseudo_colour,
    render_view,
)
from kouan.domain import EvidenceEvent, Finding
from kouan.evidence.errors import ObjectNotFound, UnknownCase

log = logging.getLogger(__name__)


class EvidenceReader(Protocol):
    """The part of :class:`kouan.evidence.service.EvidenceService` the viewer needs."""

    def get_object(self, sha256: str) -> bytes: ...

    def case(self, case_id: str) -> dict[str, Any]: ...


class UnknownImage(LookupError):
    """The image key does not belong to the item (or could not be decoded)."""


@dataclass
class ItemMedia:
    """Decoded media of one finding, in evidence order."""

    images: list[ScanImage] = field(default_factory=list)
    declarations: list[Declaration] = field(default_factory=list)
    attachments: list[dict[str, str]] = field(default_factory=list)

    def image(self, key: str) -> ScanImage:
        for img in self.images:
            if img.key == key:
                return img
        raise UnknownImage(f"image {key!r} is not part of this item")

    def nbytes(self) -> int:
        total = 1024
        for img in self.images:
            for arr in (img.low, img.high, img.gray16, img.rgb, img.volume):
                total += 0 if arr is None else int(arr.nbytes)
        return total


def image_info(img: ScanImage) -> dict[str, Any]:
    """JSON description of an image for the UI (no pixel data)."""
    views = available_views(img)
    grid = TileGrid.for_size(img.width, img.height)
    return {"key": img.key, "kind": img.kind, "width": img.width, "height": img.height,
            "views": list(views), "default_view": views[0], "raw16": True,
            "members": list(img.members),
            "tiles": {"levels": grid.levels, "tile_size": 256},
            "projected_boxes": {v: projected_boxes(img, v) for v in views
                                if projected_boxes(img, v)}}


def _arrays_nbytes(value: Any) -> int:
    if isinstance(value, dict):
        return sum(int(v.nbytes) for v in value.values()) + 256
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, ItemMedia):
        return value.nbytes()
    return 1024


class MediaResolver:
    """Finds, decodes and renders the media of findings."""

    def __init__(self, evidence: EvidenceReader, *, media_bytes: int = 768 * 2**20,
                 view_bytes: int = 768 * 2**20, png_bytes: int = 256 * 2**20) -> None:
        self._evidence = evidence
        self._media: ByteLRU[ItemMedia] = ByteLRU(media_bytes, _arrays_nbytes)
        self._views: ByteLRU[Any] = ByteLRU(view_bytes, _arrays_nbytes)
        self._png: ByteLRU[bytes] = ByteLRU(png_bytes, len)

    def media(self, finding: Finding) -> ItemMedia:
        """Decoded media of ``finding`` (cached: evidence is content-addressed and immutable)."""
        return self._media.get_or_make(("media", finding.id), lambda: self._resolve(finding))

    def _capture_meta(self, case_id: str) -> dict[str, dict[str, Any]]:
        try:
            records = self._evidence.case(case_id)["records"]
        except UnknownCase:
            return {}
        out: dict[str, dict[str, Any]] = {}
        for r in records:
            if r.event != EvidenceEvent.CAPTURE_STORED:
                continue
            for obj in r.payload.get("objects", []):
                out[obj["sha256"]] = {"media_type": obj.get("media_type"),
                                      **(r.payload.get("meta") or {})}
        return out

    def _resolve(self, finding: Finding) -> ItemMedia:
        out = ItemMedia()
        meta = self._capture_meta(finding.case_id) if finding.evidence else {}
        channels: dict[str, list[tuple[str, Any]]] = {"low": [], "high": []}
        for sha in dict.fromkeys(finding.evidence):  # keep order, drop repeats
            try:
                data = self._evidence.get_object(sha)
            except ObjectNotFound:
                out.attachments.append({"sha256": sha, "note": "missing from the evidence store"})
                continue
            m = meta.get(sha, {})
            fmt = sniff(data)
            if fmt == "json":
                decl = decode_declaration(sha, data)
                if decl is not None:
                    out.declarations.append(decl)
                else:
                    out.attachments.append({"sha256": sha, "note": "JSON document"})
                continue
            try:
                if m.get("channel") in channels and fmt in ("png", "tiff"):
                    raster = decode_raster(data)
                    if raster.dtype == np.uint16 and raster.ndim == 2:
                        channels[m["channel"]].append((sha, raster))
                        continue
                out.images.append(decode_image(sha, data))
            except UnsupportedObject as exc:
                note = str(m.get("media_type") or fmt)
                out.attachments.append({"sha256": sha, "note": f"{note}: {exc}"})
        self._pair_channels(out, channels, meta)
        return out

    @staticmethod
    def _pair_channels(out: ItemMedia, channels: dict[str, list[tuple[str, Any]]],
                       meta: dict[str, dict[str, Any]]) -> None:
        """Pair separately stored low/high channels of equal shape, in evidence order."""
        highs = list(channels["high"])
        for lo_sha, lo in channels["low"]:
            match = next((h for h in highs if h[1].shape == lo.shape), None)
            if match is None:
                out.attachments.append({"sha256": lo_sha, "note": "low-energy channel without "
                                        "a matching high-energy channel"})
                continue
            highs.remove(match)
            hi_sha, hi = match
            m = meta.get(hi_sha, {})
            try:
                out.images.append(dual_energy_from_arrays(
                    hi_sha, (lo_sha, hi_sha), lo, hi, str(m.get("encoding", "linear")),
                    m.get("spectrum")))
            except UnsupportedObject as exc:
                out.attachments.append({"sha256": hi_sha, "note": str(exc)})
        for hi_sha, _ in highs:
            out.attachments.append({"sha256": hi_sha, "note": "high-energy channel without "
                                    "a matching low-energy channel"})

    # -- rendering (cached per image key; TIP composites have their own keys) --------------

    def view(self, img: ScanImage, view: str) -> Any:
        """uint8 rendering of one view (all dual-energy views are computed and kept at once)."""
        if img.kind == "dual_energy":
            views = self._views.get(("dual", img.key))
            if views is None and view == "pseudo_colour":  # the first view: keep it quick
                return self._views.get_or_make(("view", img.key, view),
                                               lambda: render_pseudo_colour(img))
            if views is None:
                views = self._views.get_or_make(("dual", img.key), lambda: render_all_dual(img))
            if view in views:
                return views[view]
        return self._views.get_or_make(("view", img.key, view), lambda: render_view(img, view))

    def view_png(self, img: ScanImage, view: str) -> bytes:
        """PNG of a whole view (kept: a 6-megapixel radiograph takes a second to encode)."""
        return self._png.get_or_make(("view", img.key, view),
                                     lambda: encode_png(self.view(img, view)))

    def tile_png(self, img: ScanImage, view: str, level: int, tx: int, ty: int) -> bytes:
        """PNG of one tile; ValueError for a tile outside the grid."""
        def make() -> bytes:
            lv, grid = self.level(img, view, level)
            grid.check(level, tx, ty)
            return encode_png(cut_tile(lv, tx, ty))

        return self._png.get_or_make(("tile", img.key, view, level, tx, ty), make)

    def level(self, img: ScanImage, view: str, level: int) -> tuple[Any, TileGrid]:
        """The view downscaled to tile ``level`` (cached) and the view's tile grid (CT MIPs
        other than the axial one have their own size)."""
        full = self.view(img, view)
        grid = TileGrid.for_size(int(full.shape[1]), int(full.shape[0]))
        grid.check(level, 0, 0)
        if level == 0:
            return full, grid
        return self._views.get_or_make(("level", img.key, view, level),
                                       lambda: downscale(full, grid, level)), grid
