"""Embedding arithmetic and threshold calibration on small hand-made tables."""

from __future__ import annotations

import numpy as np
import pytest

from vision.faces.calibration import (
    accuracy,
    at_far,
    best_accuracy_threshold,
    kfold_accuracy,
    roc,
)
from vision.faces.embeddings import (
    as_embeddings,
    distance_for_score,
    distances,
    inconsistent_members,
    match_score,
)


def test_distances_are_euclidean() -> None:
    a = np.array([[0.0, 0.0], [3.0, 4.0]])
    b = np.array([[0.0, 0.0], [0.0, 4.0], [6.0, 8.0]])
    assert np.allclose(distances(a, b), [[0, 4, 10], [5, 3, 5]])


@pytest.mark.parametrize("bad", [np.zeros((2, 3)), np.zeros((2, 2, 128)),
                                 np.full((1, 128), np.nan)])
def test_as_embeddings_rejects(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        as_embeddings(bad)


def test_score_is_monotone_and_half_at_threshold() -> None:
    d = np.linspace(0, 1.2, 13)
    s = match_score(d, 0.6)
    assert np.all(np.diff(s) < 0)
    assert match_score(0.6, 0.6) == pytest.approx(0.5)
    assert distance_for_score(match_score(0.42, 0.6), 0.6) == pytest.approx(0.42, abs=1e-6)
    with pytest.raises(ValueError):
        match_score(0.1, 0.0)


def test_inconsistent_members() -> None:
    e = np.zeros((4, 128), np.float32)
    e[3, 0] = 2.0  # far from the three identical ones
    assert inconsistent_members(e, 0.6) == [3]
    assert inconsistent_members(e[:1], 0.6) == []
    assert inconsistent_members(e[2:], 0.6) == [0, 1]  # two that disagree: both flagged


# distances and labels: genuine pairs close, one impostor at 0.55 (a false accept at 0.6)
D = np.array([0.2, 0.3, 0.35, 0.5, 0.62, 0.55, 0.7, 0.8, 0.9, 1.0])
S = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0], bool)


def test_roc_points_and_auc() -> None:
    c = roc(D, S)
    assert c.far[0] == 0 and c.tar[0] == 0 and c.far[-1] == 1 and c.tar[-1] == 1
    assert np.all(np.diff(c.far) >= 0) and np.all(np.diff(c.tar) >= 0)
    assert c.auc == pytest.approx(0.96)  # one impostor ranks above one genuine: 1 - 1/25


def test_operating_points() -> None:
    c = roc(D, S)
    zero = at_far(c, 0.0)
    assert (zero.threshold, zero.tar, zero.far) == (0.5, 0.8, 0.0)
    fifth = at_far(c, 0.2)
    assert fifth.tar == 1.0 and fifth.far == pytest.approx(0.2) and fifth.threshold == 0.62
    assert accuracy(D, S, 0.6) == pytest.approx(0.8)
    t = best_accuracy_threshold(D, S)
    assert accuracy(D, S, t) == pytest.approx(0.9)


def test_kfold_never_scores_on_its_own_fold() -> None:
    rng = np.random.default_rng(0)
    d = np.r_[rng.normal(0.4, 0.05, 60), rng.normal(0.9, 0.05, 60)]
    s = np.r_[np.ones(60, bool), np.zeros(60, bool)]
    folds = kfold_accuracy(d, s, folds=5, seed=1)
    assert len(folds) == 5 and sum(f.n_test for f in folds) == 120
    assert all(f.accuracy == 1.0 and 0.5 < f.threshold < 0.8 for f in folds)
    with pytest.raises(ValueError):
        kfold_accuracy(d, s, folds=1)
    with pytest.raises(ValueError, match="genuine"):
        roc(d, np.ones(120, bool))
