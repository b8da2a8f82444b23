"""Verification-threshold calibration: ROC, TAR at a FAR, best-accuracy threshold, k-fold CV.

Convention: a pair is *accepted* (called "same person") when its distance ``d <= threshold``.
``same`` is a boolean array (True = genuine pair). FAR = accepted impostor pairs / impostor
pairs; TAR = accepted genuine pairs / genuine pairs. All inputs are 1-D arrays of equal length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def _check(distances: npt.ArrayLike, same: npt.ArrayLike) -> tuple[FloatArray, npt.NDArray[
        np.bool_]]:
    d = np.asarray(distances, dtype=np.float64)
    s = np.asarray(same, dtype=bool)
    if d.ndim != 1 or d.shape != s.shape:
        raise ValueError(f"distances and same must be equal-length 1-D, got {d.shape}, {s.shape}")
    if not np.all(np.isfinite(d)):
        raise ValueError("distances must be finite")
    if not s.any() or s.all():
        raise ValueError("need at least one genuine and one impostor pair")
    return d, s


@dataclass(frozen=True)
class Roc:
    """ROC as step points: accepting ``d <= thresholds[i]`` gives ``far[i]`` and ``tar[i]``.
    ``thresholds`` ascend; the first point is (0, 0) at ``-inf``."""

    thresholds: FloatArray
    far: FloatArray
    tar: FloatArray

    @property
    def auc(self) -> float:
        return float(np.trapz(self.tar, self.far))


def roc(distances: npt.ArrayLike, same: npt.ArrayLike) -> Roc:
    d, s = _check(distances, same)
    order = np.argsort(d, kind="stable")
    d, s = d[order], s[order]
    tp = np.cumsum(s)
    fp = np.cumsum(~s)
    last = np.r_[d[1:] != d[:-1], True]  # one point per distinct distance
    thr = np.r_[-np.inf, d[last]]
    tar = np.r_[0.0, tp[last] / s.sum()]
    far = np.r_[0.0, fp[last] / (~s).sum()]
    return Roc(thr, far, tar)


@dataclass(frozen=True)
class OperatingPoint:
    threshold: float
    tar: float
    far: float


def at_far(curve: Roc, max_far: float) -> OperatingPoint:
    """The operating point with the highest TAR whose FAR <= ``max_far``. With ``n`` impostor
    pairs the smallest measurable non-zero FAR is ``1/n``; below that this returns the last
    threshold with zero observed false accepts (an optimistic estimate: say so when reporting).
    """
    if not 0.0 <= max_far <= 1.0:
        raise ValueError(f"max_far must be in [0, 1], got {max_far}")
    ok = np.flatnonzero(curve.far <= max_far)
    i = int(ok[-1])
    return OperatingPoint(float(curve.thresholds[i]), float(curve.tar[i]), float(curve.far[i]))


def accuracy(distances: npt.ArrayLike, same: npt.ArrayLike, threshold: float) -> float:
    d, s = _check(distances, same)
    return float(((d <= threshold) == s).mean())


def best_accuracy_threshold(distances: npt.ArrayLike, same: npt.ArrayLike) -> float:
    """Threshold maximising accuracy, placed midway between the two distances it separates
    (ties broken towards the middle of the best plateau)."""
    d, s = _check(distances, same)
    u = np.unique(d)
    cands = np.r_[u[0] - 1e-6, (u[1:] + u[:-1]) / 2.0, u[-1] + 1e-6]
    acc = np.array([((d <= t) == s).mean() for t in cands])
    best = np.flatnonzero(acc == acc.max())
    return float(cands[best[len(best) // 2]])


@dataclass(frozen=True)
class FoldResult:
    threshold: float
    accuracy: float
    n_test: int


def kfold_accuracy(
    distances: npt.ArrayLike, same: npt.ArrayLike, folds: int = 10, seed: int = 0
) -> list[FoldResult]:
    """LFW-style protocol: split pairs into ``folds`` stratified folds; for each, pick the
    best-accuracy threshold on the other folds and measure accuracy on this one (so no fold
    is scored with a threshold chosen on it)."""
    d, s = _check(distances, same)
    if folds < 2:
        raise ValueError(f"folds must be >= 2, got {folds}")
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(d), dtype=np.int64)
    for label in (True, False):
        idx = rng.permutation(np.flatnonzero(s == label))
        fold_of[idx] = np.arange(len(idx)) % folds
    out = []
    for k in range(folds):
        test = fold_of == k
        train = ~test
        if test.sum() == 0 or s[train].all() or not s[train].any():
            raise ValueError(f"fold {k} is degenerate; use fewer folds")
        t = best_accuracy_threshold(d[train], s[train])
        out.append(FoldResult(t, float(((d[test] <= t) == s[test]).mean()), int(test.sum())))
    return out
