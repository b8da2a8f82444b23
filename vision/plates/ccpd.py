"""CCPD file-name annotations (Chinese City Parking Dataset).

A CCPD file name is ``area-tiltH_tiltV-x1&y1_x2&y2-c1x&c1y_c2x&c2y_c3x&c3y_c4x&c4y-i0_i1_..-
brightness-blur.jpg``: the plate box (``xyxy`` pixels), the 4 plate corners starting at
bottom-right and going clockwise (bottom-right, bottom-left, top-left, top-right), and the
plate characters as indices into the three CCPD tables (province, city letter, then letters and
digits; 8 indices for green new-energy plates).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

import numpy as np

from vision.ocr_det import Quad, order_quad

CCPD_PROVINCES = tuple("皖沪津渝冀晋蒙辽吉黑苏浙京闽赣鲁豫鄂湘粤桂琼川贵云藏陕甘青宁新警学O")
CCPD_ALPHABETS = ("A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "Q", "R",
                  "S", "T", "U", "V", "W", "X", "Y", "Z", "O")
CCPD_ADS = ("A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "Q", "R", "S",
            "T", "U", "V", "W", "X", "Y", "Z", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
            "O")


@dataclass(frozen=True)
class CcpdLabel:
    plate: str
    box_xyxy: tuple[int, int, int, int]
    corners: Quad  # TL, TR, BR, BL


def parse_ccpd_name(name: str) -> CcpdLabel:
    """Decode a CCPD file name (any directory prefix); ``ValueError`` if it is not one."""
    stem = PurePath(name).stem
    parts = stem.split("-")
    if len(parts) != 7:
        raise ValueError(f"not a CCPD file name (7 '-'-separated fields expected): {name!r}")
    try:
        (x1, y1), (x2, y2) = (tuple(int(v) for v in p.split("&")) for p in parts[2].split("_"))
        pts = [tuple(int(v) for v in p.split("&")) for p in parts[3].split("_")]
        idx = [int(v) for v in parts[4].split("_")]
    except ValueError as exc:
        raise ValueError(f"malformed CCPD fields in {name!r}: {exc}") from None
    if len(pts) != 4 or any(len(p) != 2 for p in pts) or len(idx) not in (7, 8):
        raise ValueError(f"malformed CCPD corners or characters in {name!r}")
    try:
        chars = [CCPD_PROVINCES[idx[0]], CCPD_ALPHABETS[idx[1]]] + [CCPD_ADS[i] for i in idx[2:]]
    except IndexError:
        raise ValueError(f"character index out of the CCPD tables in {name!r}") from None
    return CcpdLabel(plate="".join(chars), box_xyxy=(x1, y1, x2, y2),
                     corners=order_quad(np.array(pts, dtype=np.float32)))
