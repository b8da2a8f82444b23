"""Loading and saving scan files, with checks that name the problem.

Files are recognised by their content (magic bytes), never by extension: PNG, JPEG, TIFF
(classic and BigTIFF) and NumPy ``.npz``/``.npy``. Image dimensions are read from the header
*before* decoding, so a decompression bomb is refused cheaply (:data:`MAX_PIXELS`,
:data:`MAX_VOXELS`); truncated files, wrong dtypes or bit depths, NaN/negative values and CT
stacks whose slices disagree raise :class:`ScanFormatError` (a ``ValueError``).

Returned arrays:

* raw dual-energy channel: float32 (H, W) transmissions in (0, 1] (from uint16 with the
  ``linear``/``log`` encoding of :func:`vision.xray.encode_raw16`, or float32 TIFF in [0, 1]);
* pseudo-colour: uint8 (H, W, 3) RGB;
* CT volume: float32 (S, H, W) plus voxel size in cm when the file records it;
* backscatter: float32 (H, W) in [0, 1] from 8- or 16-bit grey.
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path
from typing import Any, Final

import cv2
import numpy as np
import tifffile
from numpy.typing import NDArray

from vision.xray.transmission import RawScheme, decode_raw16, validate_pair

MAX_PIXELS: Final[int] = 100_000_000
MAX_VOXELS: Final[int] = 512 * 512 * 512
MAX_FILE_BYTES: Final[int] = 2 * 1024**3

F32 = NDArray[np.float32]


class ScanFormatError(ValueError):
    """A scan file is unreadable, of the wrong kind, or its content is invalid."""


def sniff_format(path: Path) -> str:
    """``png``, ``jpeg``, ``tiff``, ``npz`` or ``npy`` from the first bytes of the file."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise ScanFormatError(f"{path}: cannot read file ({exc.strerror})") from None
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head.startswith(b"PK\x03\x04"):
        return "npz"
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if not head:
        raise ScanFormatError(f"{path}: file is empty")
    raise ScanFormatError(f"{path}: unrecognised content (not PNG, JPEG, TIFF or NumPy)")


def _check_pixels(path: Path, h: int, w: int, limit: int = MAX_PIXELS) -> None:
    if h <= 0 or w <= 0:
        raise ScanFormatError(f"{path}: header gives an empty image ({w} x {h})")
    if h * w > limit:
        raise ScanFormatError(
            f"{path}: {w} x {h} pixels exceeds the limit of {limit} pixels "
            "(refusing a possible decompression bomb)"
        )


def _png_header(path: Path, data: bytes) -> tuple[int, int]:
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise ScanFormatError(f"{path}: truncated PNG (no IHDR header)")
    w, h = struct.unpack(">II", data[16:24])
    if not data.rstrip(b"\x00").endswith(b"IEND\xaeB`\x82"):
        raise ScanFormatError(f"{path}: truncated PNG (missing IEND chunk)")
    return int(h), int(w)


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_header(path: Path, data: bytes) -> tuple[int, int]:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise ScanFormatError(f"{path}: corrupt JPEG (bad marker at byte {i})")
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        if marker in _SOF:
            if i + 9 > len(data):
                break
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
                raise ScanFormatError(f"{path}: truncated JPEG (no end-of-image marker)")
            return int(h), int(w)
        i += 2 + length
    raise ScanFormatError(f"{path}: truncated JPEG (no frame header)")


def _read_bytes(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ScanFormatError(f"{path}: file of {size} bytes is larger than allowed")
    return path.read_bytes()


def _decode_2d_image(path: Path) -> NDArray[Any]:
    """Decode a PNG/JPEG/TIFF image after header checks (channels last, cv2 BGR order)."""
    fmt = sniff_format(path)
    if fmt in ("npz", "npy"):
        raise ScanFormatError(f"{path}: is a NumPy file, expected an image")
    if fmt == "tiff":
        arr = _read_tiff(path)
        if arr.ndim == 3 and arr.shape[0] == 1:
            arr = arr[0]
        if arr.ndim == 3 and arr.shape[2] not in (3, 4):
            raise ScanFormatError(f"{path}: TIFF holds {arr.shape[0]} slices, expected one image")
        return arr
    data = _read_bytes(path)
    h, w = _png_header(path, data) if fmt == "png" else _jpeg_header(path, data)
    _check_pixels(path, h, w)
    img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ScanFormatError(f"{path}: cannot decode {fmt.upper()} data (corrupt file)")
    return np.asarray(img)


def _read_tiff(path: Path) -> NDArray[Any]:
    try:
        with tifffile.TiffFile(path) as tif:
            pages = tif.pages
            if len(pages) == 0:
                raise ScanFormatError(f"{path}: TIFF has no images")
            first = pages[0]
            shape0, dtype0 = tuple(first.shape), first.dtype
            for k, page in enumerate(pages):
                if tuple(page.shape) != shape0 or page.dtype != dtype0:
                    raise ScanFormatError(
                        f"{path}: slice {k} is {tuple(page.shape)} {page.dtype}, slice 0 is "
                        f"{shape0} {dtype0} (inconsistent stack)"
                    )
            h, w = int(shape0[0]), int(shape0[1])
            _check_pixels(path, h, w)
            if len(pages) * h * w > MAX_VOXELS:
                raise ScanFormatError(
                    f"{path}: {len(pages)} x {w} x {h} voxels exceeds the limit of {MAX_VOXELS}"
                )
            arr = tif.asarray() if len(pages) > 1 else first.asarray()
    except ScanFormatError:
        raise
    except Exception as exc:  # tifffile raises many types on corrupt/truncated data
        raise ScanFormatError(f"{path}: unreadable TIFF ({exc})") from None
    return np.asarray(arr)


def load_raw_channel(path: Path, encoding: RawScheme = "linear") -> F32:
    """One raw dual-energy channel as float32 transmissions (see module docstring)."""
    arr = _decode_2d_image(Path(path))
    if arr.ndim != 2:
        raise ScanFormatError(f"{path}: raw channel must be single-channel, got shape {arr.shape}")
    if arr.dtype == np.uint16:
        return decode_raw16(arr, encoding)
    if arr.dtype in (np.float32, np.float64):
        if not np.isfinite(arr).all():
            raise ScanFormatError(f"{path}: contains NaN or infinite values")
        if (arr < 0).any() or (arr > 1.5).any():
            raise ScanFormatError(f"{path}: float transmissions must lie in [0, 1]")
        return np.asarray(np.clip(arr, 1e-6, 1.0), dtype=np.float32)
    raise ScanFormatError(
        f"{path}: raw channel has dtype {arr.dtype}; expected 16-bit (uint16) or float32 data"
    )


def load_dual_energy(
    low_path: Path, high_path: Path, encoding: RawScheme = "linear"
) -> tuple[F32, F32]:
    """A (low, high) pair of float32 transmissions; shapes must match."""
    low = load_raw_channel(Path(low_path), encoding)
    high = load_raw_channel(Path(high_path), encoding)
    try:
        return validate_pair(low, high)
    except ValueError as exc:
        raise ScanFormatError(f"{low_path} / {high_path}: {exc}") from None


def load_pseudo_colour(path: Path) -> NDArray[np.uint8]:
    """An 8-bit pseudo-colour scan as uint8 RGB (H, W, 3)."""
    arr = _decode_2d_image(Path(path))
    if arr.dtype != np.uint8:
        raise ScanFormatError(f"{path}: pseudo-colour images are 8-bit, got {arr.dtype}")
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ScanFormatError(f"{path}: expected an RGB colour image, got shape {arr.shape}")
    if sniff_format(Path(path)) == "tiff":  # tifffile gives RGB, cv2 gives BGR
        return np.ascontiguousarray(arr[..., :3])
    return np.ascontiguousarray(cv2.cvtColor(arr[..., :3], cv2.COLOR_BGR2RGB))


def load_backscatter(path: Path) -> F32:
    """A backscatter image as float32 (H, W) in [0, 1] (8- or 16-bit grey)."""
    arr = _decode_2d_image(Path(path))
    if arr.ndim != 2:
        raise ScanFormatError(f"{path}: backscatter images are single-channel, got {arr.shape}")
    if arr.dtype == np.uint8:
        return np.asarray(arr, dtype=np.float32) / np.float32(255.0)
    if arr.dtype == np.uint16:
        return np.asarray(arr, dtype=np.float32) / np.float32(65535.0)
    raise ScanFormatError(f"{path}: backscatter images are 8- or 16-bit, got {arr.dtype}")


def _npz_volume(path: Path) -> tuple[NDArray[Any], float | None]:
    try:
        with zipfile.ZipFile(path) as zf:
            names = {i.filename: i for i in zf.infolist()}
            if "volume.npy" not in names:
                raise ScanFormatError(f"{path}: .npz has no 'volume' array "
                                      f"(found: {', '.join(sorted(names)) or 'nothing'})")
            # the uncompressed size bounds the voxel count before anything is inflated
            if names["volume.npy"].file_size > MAX_VOXELS * 8 + 4096:
                raise ScanFormatError(f"{path}: 'volume' inflates to "
                                      f"{names['volume.npy'].file_size} bytes, over the limit "
                                      f"of {MAX_VOXELS} voxels (refusing a decompression bomb)")
            with np.load(path, allow_pickle=False) as npz:
                vol = np.asarray(npz["volume"])
                voxel = float(npz["voxel_cm"]) if "voxel_cm" in npz.files else None
    except ScanFormatError:
        raise
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, TypeError) as exc:
        raise ScanFormatError(f"{path}: unreadable .npz ({exc})") from None
    if vol.size > MAX_VOXELS:
        raise ScanFormatError(f"{path}: volume {vol.shape} exceeds {MAX_VOXELS} voxels")
    return vol, voxel


def load_ct_volume(path: Path) -> tuple[F32, float | None]:
    """A CT volume float32 (S, H, W) from a TIFF stack or ``.npz`` (keys ``volume`` and
    optional ``voxel_cm``); returns (volume, voxel size in cm or None)."""
    p = Path(path)
    fmt = sniff_format(p)
    if fmt == "tiff":
        vol, voxel = _read_tiff(p), None
        if vol.ndim == 2:
            vol = vol[None]
    elif fmt == "npz":
        vol, voxel = _npz_volume(p)
    else:
        raise ScanFormatError(f"{p}: CT volumes are TIFF stacks or .npz files, found {fmt}")
    if vol.ndim != 3:
        raise ScanFormatError(f"{p}: CT volume must be 3-D (S, H, W), got shape {vol.shape}")
    if not (np.issubdtype(vol.dtype, np.integer) or np.issubdtype(vol.dtype, np.floating)):
        raise ScanFormatError(f"{p}: CT volume has non-numeric dtype {vol.dtype}")
    out = np.asarray(vol, dtype=np.float32)
    if not np.isfinite(out).all():
        raise ScanFormatError(f"{p}: CT volume contains NaN or infinite values")
    if voxel is not None and not voxel > 0:
        raise ScanFormatError(f"{p}: voxel_cm must be > 0, got {voxel}")
    return out, voxel


def save_png(path: Path, image: NDArray[Any], compression: int = 3) -> None:
    """Write uint8 grey/RGB (RGB order) or uint16 grey as PNG. Level 3 is ~10x faster than
    9 for noisy scan data and only ~10 % larger."""
    arr = image
    if arr.ndim == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", arr, [cv2.IMWRITE_PNG_COMPRESSION, compression])
    if not ok:
        raise ScanFormatError(f"{path}: PNG encoding failed")
    Path(path).write_bytes(buf.tobytes())


def save_png_small(path: Path, rgb: NDArray[np.uint8], colours: int = 256) -> None:
    """Write an RGB picture (contact sheet, figure) as a palette PNG - a few times smaller."""
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(rgb), mode="RGB")
    img.quantize(colors=colours, method=Image.Quantize.MEDIANCUT).save(Path(path), optimize=True)


def save_ct_npz(path: Path, volume: F32, voxel_cm: float, **extra: NDArray[Any]) -> None:
    """Write a CT volume (and extra arrays, e.g. ``zeff``) as compressed ``.npz``."""
    with open(Path(path), "wb") as fh:  # a handle: savez would append ".npz" to the name
        np.savez_compressed(fh, volume=np.asarray(volume, dtype=np.float32),
                            voxel_cm=np.float64(voxel_cm), **extra)


def save_tiff_stack(path: Path, volume: NDArray[Any]) -> None:
    """Write a (S, H, W) volume as a multi-page TIFF."""
    tifffile.imwrite(Path(path), np.asarray(volume))


def write_json(path: Path, obj: Any) -> None:
    Path(path).write_text(json.dumps(obj, indent=1, default=_json_default) + "\n")


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
