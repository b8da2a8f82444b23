"""Face-embedding arithmetic: validation, Euclidean distances, scores, enrolment consistency.

dlib's ResNet embeds an aligned 150x150 chip into a float32 ``[128]`` vector that is *not* unit
length (norms ~1.3-1.7); its metric-learning loss makes Euclidean distance the decision quantity
(the model's published operating point is 0.6). We therefore keep raw vectors and L2 distance
everywhere (FAISS ``METRIC_L2``), so one threshold means the same thing in 1:1 and 1:N.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

EMBEDDING_DIM = 128
DLIB_REFERENCE_THRESHOLD = 0.6
"""dlib's published threshold for this model (99.38% on LFW); independent of our data."""

_SCORE_STEEPNESS = 12.0  # logistic slope per unit distance: d = thr +/- 0.2 -> score 0.92 / 0.08


def as_embeddings(x: npt.ArrayLike, dim: int = EMBEDDING_DIM) -> npt.NDArray[np.float32]:
    """``[N, dim]`` float32 C-contiguous copy of ``x`` (a single ``[dim]`` vector becomes
    ``[1, dim]``); ``ValueError`` on a wrong shape or non-finite values."""
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ValueError(f"embeddings must be [N, {dim}], got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("embeddings contain NaN or infinity")
    return np.ascontiguousarray(arr)


def distances(a: npt.ArrayLike, b: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """Euclidean distances between every row of ``a`` ``[N, D]`` and ``b`` ``[M, D]``:
    float32 ``[N, M]``."""
    x = as_embeddings(a, np.asarray(a).shape[-1]).astype(np.float64)
    y = as_embeddings(b, x.shape[1]).astype(np.float64)
    sq = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2.0 * x @ y.T
    out: npt.NDArray[np.float32] = np.sqrt(np.maximum(sq, 0.0)).astype(np.float32)
    return out


def match_score(distance: float | npt.NDArray[np.floating[Any]], threshold: float) -> Any:
    """Map a distance to a display score in (0, 1): 0.5 at ``threshold``, higher = more alike.

    A monotone logistic of ``threshold - distance``; it is *not* a calibrated probability.
    """
    if threshold <= 0:
        raise ValueError(f"threshold must be > 0, got {threshold}")
    d = np.asarray(distance, dtype=np.float64)
    s = 1.0 / (1.0 + np.exp(np.clip(_SCORE_STEEPNESS * (d - threshold), -60.0, 60.0)))
    return float(s) if s.ndim == 0 else s.astype(np.float32)


def distance_for_score(score: float, threshold: float) -> float:
    """Inverse of :func:`match_score` (``0 < score < 1``)."""
    if not 0.0 < score < 1.0:
        raise ValueError(f"score must be in (0, 1), got {score}")
    return threshold + math.log(1.0 / score - 1.0) / _SCORE_STEEPNESS


def inconsistent_members(embeddings: npt.ArrayLike, threshold: float) -> list[int]:
    """Indices of enrolment photos that match *none* of the other photos (distance > threshold
    to every other one). Empty for a single photo or a consistent set; with two photos that
    disagree both indices are returned (we cannot tell which one is wrong)."""
    e = as_embeddings(embeddings)
    if len(e) < 2:
        return []
    d = distances(e, e)
    np.fill_diagonal(d, np.inf)
    return [int(i) for i in np.flatnonzero(d.min(axis=1) > threshold)]
