"""Turn evidence objects (bytes) into images a reviewer can look at.

The evidence store keeps bytes and a capture's ``media_type``/``meta`` in its ledger entry; the
content is recognised here by its magic bytes, never by a name:

* PNG / JPEG / TIFF: 8-bit grey or colour, or 16-bit grey (single-energy raw, backscatter).
  Two 16-bit grey captures of one finding whose capture meta says ``{"channel": "low"}`` and
  ``{"channel": "high"}`` (optional ``"encoding": "linear"|"log"``, ``"spectrum"``) form one
  dual-energy image.
* ``.npz`` with ``low`` and ``high``: a dual-energy pair, float32 transmissions in (0, 1] or
  uint16 raw values (``encoding`` array: ``linear`` (default) or ``log``; ``spectrum``: a
  preset name such as ``linac_4_6MV``). The format :func:`dual_energy_npz` writes.
* ``.npz`` with ``volume`` (S, H, W): a CT volume (optional ``boxes3d`` (N, 6) voxel
  ``x1, y1, z1, x2, y2, z2`` with z along S, and ``labels3d`` (N,)).
* JSON: a declaration (shown beside the image), anything else is an attachment.

Arrays are indexed ``[row, col] = [y, x]``; boxes are pixel ``xyxy``.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any, Final

import cv2
import numpy as np
from numpy.typing import NDArray

from vision.xray.transmission import decode_raw16, encode_raw16, validate_pair

F32 = NDArray[np.float32]
U8 = NDArray[np.uint8]
U16 = NDArray[np.uint16]

MAX_PIXELS: Final[int] = 64_000_000
MAX_VOXELS: Final[int] = 512 * 512 * 512


class UnsupportedObject(ValueError):
    """The object is not an image this viewer can show (the message says why)."""


@dataclass(frozen=True)
class ScanImage:
    """One viewable image.

    ``kind``: ``dual_energy`` (``low``/``high`` float32 transmissions; ``gray16`` is the raw
    high channel in ``encoding``), ``gray16`` (``gray16``
    uint16), ``gray8`` / ``rgb`` (``rgb`` uint8 (H, W, 3)) or ``ct`` (``volume`` float32
    (S, H, W); its 2-D frame is the axial MIP, (H, W)). ``width``/``height`` are pixels of
    that frame. ``members`` are the sha256 of the objects it was built from.
    """

    key: str
    kind: str
    width: int
    height: int
    members: tuple[str, ...]
    low: F32 | None = None
    high: F32 | None = None
    spectrum: str | None = None
    encoding: str = "linear"
    gray16: U16 | None = None
    rgb: U8 | None = None
    volume: F32 | None = None
    boxes3d: F32 | None = None
    labels3d: tuple[str, ...] = ()


@dataclass
class Declaration:
    """A declaration found among the evidence (``Declaration`` JSON or a synthetic cargo
    declaration), as a plain dict for the UI, with the HS chapters (2 digits) it declares."""

    sha256: str
    data: dict[str, Any]
    hs_chapters: list[str] = field(default_factory=list)


def sniff(data: bytes) -> str:
    """``png``, ``jpeg``, ``tiff``, ``npz``, ``npy``, ``json`` or ``unknown``."""
    head = data[:16]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head.startswith(b"PK\x03\x04"):
        return "npz"
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if data.lstrip()[:1] in (b"{", b"["):
        return "json"
    return "unknown"


def decode_raster(data: bytes) -> NDArray[Any]:
    """PNG/JPEG/TIFF bytes -> uint8 (H, W) / (H, W, 3) RGB or uint16 (H, W)."""
    fmt = sniff(data)
    if fmt == "png" and len(data) >= 24 and data[12:16] == b"IHDR":
        w, h = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        if w * h > MAX_PIXELS:  # refuse a decompression bomb before decoding it
            raise UnsupportedObject(f"image of {w} x {h} pixels exceeds {MAX_PIXELS} pixels")
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise UnsupportedObject(f"undecodable {fmt} image")
    if img.ndim == 3:
        if img.shape[2] == 4:
            img = img[:, :, :3]
        img = img[:, :, 0] if img.shape[2] == 1 else cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    if img.dtype == np.uint16 and img.ndim == 3:
        img = (img // 257).astype(np.uint8)  # colour 16-bit: only 8 bits are displayable anyway
    if img.dtype not in (np.uint8, np.uint16):
        raise UnsupportedObject(f"unsupported sample type {img.dtype}")
    if img.size == 0:
        raise UnsupportedObject("empty image")
    return np.ascontiguousarray(img)


def _npz_arrays(data: bytes) -> dict[str, NDArray[Any]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = sum(i.file_size for i in zf.infolist())
            if total > 8 * MAX_PIXELS * 4:
                raise UnsupportedObject(f".npz expands to {total} bytes; too large to view")
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except UnsupportedObject:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise UnsupportedObject(f"unreadable .npz ({exc})") from None


def _text(arr: NDArray[Any] | None, default: str) -> str:
    return default if arr is None else str(np.asarray(arr).reshape(-1)[0])


def dual_energy_from_arrays(key: str, members: tuple[str, ...], low: NDArray[Any],
                            high: NDArray[Any], encoding: str = "linear",
                            spectrum: str | None = None) -> ScanImage:
    """Build a dual-energy image from float transmissions or uint16 raw values."""
    if encoding not in ("linear", "log"):
        raise UnsupportedObject(f"unknown raw encoding {encoding!r} (linear or log)")
    if low.dtype == np.uint16 and high.dtype == np.uint16:
        low_t, high_t = decode_raw16(low, encoding), decode_raw16(high, encoding)  # type: ignore[arg-type]
    else:
        low_t, high_t = low, high
    try:
        lo, hi = validate_pair(low_t, high_t)
    except ValueError as exc:
        raise UnsupportedObject(f"bad dual-energy pair: {exc}") from None
    if lo.size > MAX_PIXELS:
        raise UnsupportedObject("dual-energy image too large to view")
    raw = high if high.dtype == np.uint16 else encode_raw16(hi, encoding)  # type: ignore[arg-type]
    return ScanImage(key=key, kind="dual_energy", width=int(lo.shape[1]),
                     height=int(lo.shape[0]), members=members, low=lo, high=hi,
                     spectrum=spectrum, encoding=encoding,
                     gray16=np.ascontiguousarray(raw, dtype=np.uint16))


def _from_npz(sha: str, data: bytes) -> ScanImage:
    arrays = _npz_arrays(data)
    if "low" in arrays and "high" in arrays:
        return dual_energy_from_arrays(
            sha, (sha,), arrays["low"], arrays["high"],
            _text(arrays.get("encoding"), "linear"), _text(arrays.get("spectrum"), "") or None)
    if "volume" in arrays:
        vol = np.asarray(arrays["volume"])
        if vol.ndim != 3 or vol.size == 0 or vol.size > MAX_VOXELS:
            raise UnsupportedObject(f"CT volume must be (S, H, W) up to {MAX_VOXELS} voxels, "
                                    f"got {vol.shape}")
        vol = vol.astype(np.float32, copy=False)
        if not np.isfinite(vol).all():
            raise UnsupportedObject("CT volume contains NaN or infinite values")
        boxes = arrays.get("boxes3d")
        b3 = None
        labels: tuple[str, ...] = ()
        if boxes is not None:
            b3 = np.asarray(boxes, dtype=np.float32).reshape(-1, 6)
            lab = arrays.get("labels3d")
            labels = tuple(str(x) for x in lab) if lab is not None else ("object",) * len(b3)
            if len(labels) != len(b3):
                raise UnsupportedObject("labels3d must have one label per 3-D box")
        return ScanImage(key=sha, kind="ct", width=int(vol.shape[2]), height=int(vol.shape[1]),
                         members=(sha,), volume=vol, boxes3d=b3, labels3d=labels)
    raise UnsupportedObject(".npz has neither low/high (dual energy) nor volume (CT) arrays")


def decode_image(sha: str, data: bytes) -> ScanImage:
    """One object -> a viewable image; :class:`UnsupportedObject` if it is none."""
    fmt = sniff(data)
    if fmt == "npz":
        return _from_npz(sha, data)
    if fmt not in ("png", "jpeg", "tiff"):
        raise UnsupportedObject(f"{fmt} content is not an image")
    img = decode_raster(data)
    h, w = img.shape[:2]
    if img.dtype == np.uint16:
        return ScanImage(key=sha, kind="gray16", width=w, height=h, members=(sha,), gray16=img)
    if img.ndim == 2:
        rgb = np.ascontiguousarray(np.repeat(img[:, :, None], 3, axis=2))
        return ScanImage(key=sha, kind="gray8", width=w, height=h, members=(sha,), rgb=rgb)
    return ScanImage(key=sha, kind="rgb", width=w, height=h, members=(sha,), rgb=img)


def decode_declaration(sha: str, data: bytes) -> Declaration | None:
    """A declaration from JSON bytes, or None if the JSON is something else."""
    if sniff(data) != "json":
        return None
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(obj, dict):
        return None
    chapters: list[str] = []
    if isinstance(obj.get("goods"), list):  # kouan.domain.Declaration
        for g in obj["goods"]:
            code = str(g.get("hs_code", "")) if isinstance(g, dict) else ""
            if len(code) >= 2 and code[:2].isdigit() and code[:2] not in chapters:
                chapters.append(code[:2])
    elif "declared_hs_chapter" in obj:  # datasets.synth.cargo declarations
        if obj["declared_hs_chapter"]:
            chapters.append(str(obj["declared_hs_chapter"]))
    elif "plate" not in obj and "declared_empty" not in obj:
        return None
    return Declaration(sha, obj, chapters)


def dual_energy_npz(low: F32, high: F32, encoding: str = "linear",
                    spectrum: str | None = None) -> bytes:
    """Serialise a transmission pair as the ``.npz`` capture this viewer reads (uint16 raw)."""
    lo, hi = validate_pair(low, high)
    buf = io.BytesIO()
    extra: dict[str, Any] = {"encoding": np.array(encoding)}
    if spectrum:
        extra["spectrum"] = np.array(spectrum)
    np.savez_compressed(buf, low=encode_raw16(lo, encoding),  # type: ignore[arg-type]
                        high=encode_raw16(hi, encoding), **extra)  # type: ignore[arg-type]
    return buf.getvalue()
