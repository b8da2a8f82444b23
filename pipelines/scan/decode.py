"""Scans on disk -> decoded arrays, recognised by content (never by extension alone).

A *scan* is one file, or a raw dual-energy pair ``<stem>_low.<ext>`` + ``<stem>_high.<ext>``
(the layout of ``kouan datasets synth xray``). What the content says:

============================================  ==================  =========================
content                                       modality            decoded as
============================================  ==================  =========================
8-bit RGB image (PNG/JPEG/TIFF)               xray_dual_energy    pseudo-colour RGB
8-bit single-channel image                    xray_single_energy  grey, shown as RGB
16-bit single-channel image (alone)           backscatter         float [0, 1]
16-bit ``_low``/``_high`` pair                xray_dual_energy    raw pair + pseudo-colour
``.npz`` with ``low`` and ``high`` arrays     xray_dual_energy    raw pair + pseudo-colour
``.npz`` with ``volume`` / TIFF stack         ct_volume           CT numbers (+ ``zeff``)
============================================  ==================  =========================

Raw pairs use the ``linear`` encoding unless metadata says ``log`` (cargo). A scan of a truck
(cargo) is recognised by its metadata (``kind: cargo`` or a declaration). Metadata comes from
a sidecar ``<stem>.json`` or from the synth export's ``manifest.json`` +
``declarations.json`` next to the ``images/`` folder. Anything unreadable raises
:class:`datasets.scan_io.ScanFormatError` with the reason.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from datasets.scan_io import (
    ScanFormatError,
    load_backscatter,
    load_ct_volume,
    load_pseudo_colour,
    sniff_format,
)
from kouan.domain import Modality
from vision.xray.render import pseudo_colour
from vision.xray.spectra import dual_layer_160kv, linac_dual_energy
from vision.xray.transmission import decode_raw16, validate_pair

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
_PAIR = re.compile(r"^(?P<stem>.+)_(?P<ch>low|high)$")
SCAN_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".npz", ".npy", ".bmp")


@dataclass(frozen=True)
class ScanRef:
    """One scan to process: its file(s) and metadata (declaration, kind, encoding)."""

    name: str
    paths: tuple[Path, ...]
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class DecodedScan:
    """A decoded scan. ``rgb`` is the reviewer picture (uint8 RGB) for 2-D scans, the
    top-view MIP for CT; ``low``/``high`` are transmissions when a raw pair was given."""

    ref: ScanRef
    modality: Modality
    sha256: str
    data: bytes
    media_type: str
    rgb: U8 | None = None
    low: F32 | None = None
    high: F32 | None = None
    volume: F32 | None = None
    zeff_volume: F32 | None = None
    voxel_cm: float | None = None
    grey: F32 | None = None

    @property
    def is_cargo(self) -> bool:
        return self.ref.meta.get("kind") == "cargo" or "declaration" in self.ref.meta


def content_sha256(paths: tuple[Path, ...]) -> tuple[str, bytes]:
    """sha256 over the file bytes (a pair: low then high) and the bytes of the first file
    (pairs: both files' bytes concatenated with a length prefix, so the hash is the capture's
    identity)."""
    blobs = [p.read_bytes() for p in paths]
    if len(blobs) == 1:
        return hashlib.sha256(blobs[0]).hexdigest(), blobs[0]
    joined = b"".join(len(b).to_bytes(8, "big") + b for b in blobs)
    return hashlib.sha256(joined).hexdigest(), joined


def _folder_meta(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(manifest, declarations) of a synth export (``folder`` = its ``images/`` dir)."""
    root = folder.parent if folder.name == "images" else folder
    manifest = declarations = {}
    try:
        if (root / "manifest.json").is_file():
            manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
        if (root / "declarations.json").is_file():
            declarations = json.loads((root / "declarations.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest, declarations = {}, {}
    return manifest, declarations


def _meta_for(name: str, path: Path, manifest: dict[str, Any], decl: dict[str, Any]
              ) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if manifest.get("kind") in ("baggage", "cargo"):
        meta["kind"] = manifest["kind"]
        meta["raw_encoding"] = manifest.get("raw_encoding", "linear")
    scene = re.sub(r"_(top|side)$", "", name)
    if scene in decl:
        meta["declaration"] = decl[scene]
        meta["kind"] = "cargo"
    sidecar = path.with_name(name + ".json")
    if sidecar.is_file():
        try:
            meta.update(json.loads(sidecar.read_text(encoding="utf-8")))
        except ValueError:
            meta["sidecar_error"] = f"{sidecar.name} is not valid JSON"
    return meta


def scan_refs(files: list[Path]) -> list[ScanRef]:
    """Group files into scans: ``_low``/``_high`` pairs become one scan; a synth export's
    ``_rgb`` rendering of a pair is skipped (the pair is the capture); JSON sidecars and
    manifests are metadata, not scans. Sorted by name."""
    files = sorted(files)
    by_stem: dict[tuple[Path, str], dict[str, Path]] = {}
    singles: list[Path] = []
    for f in files:
        if f.suffix.lower() == ".json" or f.name.startswith(".") or \
                f.stem == "contact_sheet":  # the synth export's preview, not a scan
            continue
        m = _PAIR.match(f.stem)
        if m:
            by_stem.setdefault((f.parent, m["stem"]), {})[m["ch"]] = f
        else:
            singles.append(f)
    refs: list[ScanRef] = []
    metas: dict[Path, tuple[dict[str, Any], dict[str, Any]]] = {}
    paired_stems = set()
    for (folder, stem), chans in by_stem.items():
        man, dec = metas.setdefault(folder, _folder_meta(folder))
        if "low" in chans and "high" in chans:
            refs.append(ScanRef(stem, (chans["low"], chans["high"]),
                                _meta_for(stem, chans["low"], man, dec)))
            paired_stems.add((folder, stem))
        else:
            for p in chans.values():  # half a pair: quarantined by decode with the reason
                refs.append(ScanRef(p.stem, (p,), {"unpaired": True}))
    for f in singles:
        if f.stem.endswith("_rgb") and (f.parent, f.stem[:-4]) in paired_stems:
            continue
        man, dec = metas.setdefault(f.parent, _folder_meta(f.parent))
        refs.append(ScanRef(f.stem, (f,), _meta_for(f.stem, f, man, dec)))
    return sorted(refs, key=lambda r: (str(r.paths[0].parent), r.name))


_MEDIA = {"png": "image/png", "jpeg": "image/jpeg", "tiff": "image/tiff",
          "npz": "application/x-npz", "npy": "application/x-npy"}


def _decode_pair_arrays(low_raw: npt.NDArray[Any], high_raw: npt.NDArray[Any], encoding: str,
                        what: str) -> tuple[F32, F32]:
    def to_t(a: npt.NDArray[Any]) -> F32:
        if a.dtype == np.uint16:
            return decode_raw16(a, "log" if encoding == "log" else "linear")
        if np.issubdtype(a.dtype, np.floating):
            if not np.isfinite(a).all() or (a < 0).any() or (a > 1.5).any():
                raise ScanFormatError(f"{what}: float transmissions must be finite, in [0, 1]")
            return np.asarray(np.clip(a, 1e-6, 1.0), dtype=np.float32)
        raise ScanFormatError(f"{what}: raw channel dtype {a.dtype}; expected uint16 or float")
    try:
        return validate_pair(to_t(low_raw), to_t(high_raw))
    except ValueError as exc:
        raise ScanFormatError(f"{what}: {exc}") from None


def _render(low: F32, high: F32, cargo: bool) -> U8:
    if cargo:
        from datasets.synth.cargo import CARGO_PALETTE

        return pseudo_colour(low, high, linac_dual_energy(), CARGO_PALETTE)
    return pseudo_colour(low, high, dual_layer_160kv())


def _npz_pair(path: Path) -> tuple[npt.NDArray[Any], npt.NDArray[Any]] | None:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise ScanFormatError(f"{path}: unreadable .npz ({exc})") from None
    if not {"low.npy", "high.npy"} <= names:
        return None
    for n in ("low.npy", "high.npy"):
        with zipfile.ZipFile(path) as zf:
            if zf.getinfo(n).file_size > 100_000_000 * 8:
                raise ScanFormatError(f"{path}: '{n}' too large (decompression bomb?)")
    try:
        with np.load(path, allow_pickle=False) as z:
            return np.asarray(z["low"]), np.asarray(z["high"])
    except (ValueError, OSError, EOFError) as exc:
        raise ScanFormatError(f"{path}: unreadable .npz ({exc})") from None


def decode_scan(ref: ScanRef) -> DecodedScan:
    """Decode ``ref`` (see module docstring); ``ScanFormatError`` names what is wrong."""
    if ref.meta.get("unpaired"):
        raise ScanFormatError(f"{ref.paths[0]}: half of a raw dual-energy pair (its _low/_high "
                              "partner is missing)")
    try:
        sha, data = content_sha256(ref.paths)
    except OSError as exc:
        raise ScanFormatError(f"{ref.paths[0]}: cannot read ({exc.strerror})") from None
    cargo = ref.meta.get("kind") == "cargo" or "declaration" in ref.meta
    encoding = str(ref.meta.get("raw_encoding", "log" if cargo else "linear"))
    if len(ref.paths) == 2:
        from datasets.scan_io import load_raw_channel

        low = load_raw_channel(ref.paths[0], "log" if encoding == "log" else "linear")
        high = load_raw_channel(ref.paths[1], "log" if encoding == "log" else "linear")
        lo, hi = _decode_pair_arrays(low, high, encoding, str(ref.paths[0]))
        return DecodedScan(ref, Modality.XRAY_DUAL_ENERGY, sha, data,
                           "application/x-kouan-dual-energy-pair",
                           rgb=_render(lo, hi, cargo), low=lo, high=hi)
    path = ref.paths[0]
    fmt = sniff_format(path)
    media = _MEDIA.get(fmt, "application/octet-stream")
    if fmt in ("npz", "npy"):
        pair = _npz_pair(path) if fmt == "npz" else None
        if pair is not None:
            lo, hi = _decode_pair_arrays(pair[0], pair[1], encoding, str(path))
            return DecodedScan(ref, Modality.XRAY_DUAL_ENERGY, sha, data, media,
                               rgb=_render(lo, hi, cargo), low=lo, high=hi)
        return _decode_ct(ref, path, sha, data, media)
    if fmt == "tiff":
        try:
            rgb = load_pseudo_colour(path)
            return DecodedScan(ref, Modality.XRAY_DUAL_ENERGY, sha, data, media, rgb=rgb)
        except ScanFormatError:
            return _decode_ct(ref, path, sha, data, media)
    try:
        rgb = load_pseudo_colour(path)
        return DecodedScan(ref, Modality.XRAY_DUAL_ENERGY, sha, data, media, rgb=rgb)
    except ScanFormatError as colour_error:
        try:
            grey = load_backscatter(path)
        except ScanFormatError:
            raise colour_error from None
    import cv2

    bits16 = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED).dtype == np.uint16
    u8 = np.clip(np.rint(grey * 255.0), 0, 255).astype(np.uint8)
    rgb = np.ascontiguousarray(np.repeat(u8[:, :, None], 3, axis=2))
    modality = Modality.BACKSCATTER if bits16 or ref.meta.get("kind") == "backscatter" \
        else Modality.XRAY_SINGLE_ENERGY
    return DecodedScan(ref, modality, sha, data, media, rgb=rgb, grey=grey)


def _decode_ct(ref: ScanRef, path: Path, sha: str, data: bytes, media: str) -> DecodedScan:
    from vision.atr.ct_segment import mip_top
    from vision.ct.reconstruction import window_to_uint8

    vol, voxel = load_ct_volume(path)
    zeff = None
    if sniff_format(path) == "npz":
        with np.load(path, allow_pickle=False) as z:
            if "zeff" in z.files and z["zeff"].shape == vol.shape:
                zeff = np.asarray(z["zeff"], dtype=np.float32)
    mip = window_to_uint8(mip_top(vol), -1000.0, 3000.0)
    rgb = np.ascontiguousarray(np.repeat(mip[:, :, None], 3, axis=2))
    return DecodedScan(ref, Modality.CT_VOLUME, sha, data, media, rgb=rgb, volume=vol,
                       zeff_volume=zeff, voxel_cm=voxel)
