"""Ghost blobs: foreground that is the *background's* content, not the current frame's.

When an object that was learnt into the background leaves (it was in the first frames, it sat
in newly exposed pixels of a moving camera, or the model re-learnt while it was there), the
empty scene now differs from the model and a "ghost" blob appears where the object used to be.
A real object has strong edges of its own along its outline in the current frame; a ghost's
outline edges are in the background image instead. :func:`edge_support` measures that ratio
(the edge-based test of Cucchiara et al.'s Sakbot and its successors).
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

U8Image = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]


def _grad(img: U8Image) -> F32:
    gx = cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=3)
    return np.asarray(cv2.magnitude(gx, gy), dtype=np.float32)


def edge_support(grey: U8Image, background: U8Image, mask: U8Image,
                 boxes: npt.NDArray[np.float32]) -> F32:
    """For each box (``float32 [N, 4]`` xyxy, pixels of ``grey``): mean gradient magnitude of
    the current frame along the blob outline divided by that of the background there.

    ``grey``/``background``: ``uint8 [H, W]``; ``mask``: ``uint8 [H, W]`` 0/255 foreground.
    Values well below 1 mark ghosts. Boxes without an outline get 1.0 (no evidence either way).
    """
    if grey.shape != background.shape or grey.shape != mask.shape:
        raise ValueError("grey, background and mask must have the same shape")
    out = np.ones((boxes.shape[0],), np.float32)
    if boxes.shape[0] == 0:
        return out
    g_cur, g_bg = _grad(grey), _grad(background)
    outline = cv2.morphologyEx(mask, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    h, w = grey.shape
    for i, (x1, y1, x2, y2) in enumerate(boxes.tolist()):
        xa, ya = max(0, int(x1)), max(0, int(y1))
        xb, yb = min(w, int(np.ceil(x2))), min(h, int(np.ceil(y2)))
        sel = outline[ya:yb, xa:xb]
        if int(sel.sum()) < 8:
            continue
        cur = float(g_cur[ya:yb, xa:xb][sel].mean())
        bg = float(g_bg[ya:yb, xa:xb][sel].mean())
        out[i] = cur / max(bg, 1.0)
    return out
