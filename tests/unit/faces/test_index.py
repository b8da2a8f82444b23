"""FAISS index kinds: add, remove, search, persist; choice by size."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.faces.index import (
    EXACT_MAX,
    FaissIndex,
    IndexKind,
    IndexSpec,
    choose_spec,
    ivf_cells,
)


def clustered(n: int, dim: int = 128, clusters: int = 50, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (clusters, dim)).astype(np.float32)
    return (centres[rng.integers(0, clusters, n)] + rng.normal(0, 0.3, (n, dim))).astype(
        np.float32)


SPECS = [IndexSpec(IndexKind.FLAT), IndexSpec(IndexKind.IVF_FLAT, nlist=16, nprobe=16),
         IndexSpec(IndexKind.IVF_PQ, nlist=16, nprobe=16, pq_m=8), IndexSpec(IndexKind.HNSW)]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.kind.value)
def test_add_search_remove_roundtrip(spec: IndexSpec) -> None:
    x = clustered(2000)
    ids = np.arange(2000, dtype=np.int64) * 3 + 100
    index = FaissIndex.build(spec, x, ids)
    assert index.size == 2000
    dist, got = index.search(x[:50], 1)
    hit = (got[:, 0] == ids[:50]).mean()
    assert hit >= (0.9 if spec.kind is IndexKind.IVF_PQ else 1.0)
    if spec.kind is not IndexKind.IVF_PQ:
        assert np.allclose(dist[:, 0], 0.0, atol=1e-3)
    assert index.remove(ids[:10]) == 10
    assert index.size == 1990
    _, got = index.search(x[:10], 3)
    assert not np.isin(got, ids[:10]).any()
    copy = FaissIndex.from_bytes(index.to_bytes())
    assert copy.size == 1990 and copy.spec == spec
    _, again = copy.search(x[10:20], 1)
    _, before = index.search(x[10:20], 1)
    assert np.array_equal(again, before)
    index.add(x[:1] + 0.01, np.array([7], np.int64))
    assert index.search(x[:1], 1)[1][0, 0] == 7


def test_search_on_empty_and_bad_input() -> None:
    index = FaissIndex(IndexSpec(IndexKind.FLAT), 128)
    d, i = index.search(np.zeros((2, 128), np.float32), 3)
    assert np.isinf(d).all() and (i == -1).all()
    with pytest.raises(ValueError):
        index.search(np.zeros((2, 64), np.float32), 1)
    with pytest.raises(ValueError):
        index.add(np.zeros((2, 128), np.float32), np.array([1], np.int64))
    with pytest.raises(ValueError, match="train"):
        FaissIndex.build(IndexSpec(IndexKind.IVF_FLAT, nlist=64), clustered(10), np.arange(10))


def test_euclidean_distances_not_squared() -> None:
    x = np.zeros((2, 128), np.float32)
    x[1, 0] = 3.0
    index = FaissIndex.build(IndexSpec(IndexKind.FLAT), x, np.array([1, 2]))
    d, i = index.search(np.zeros((1, 128), np.float32), 2)
    assert i.tolist() == [[1, 2]] and d[0].tolist() == pytest.approx([0.0, 3.0])


def test_choice_by_size() -> None:
    assert choose_spec(0).kind is IndexKind.FLAT
    assert choose_spec(EXACT_MAX).kind is IndexKind.FLAT
    big = choose_spec(1_000_000)
    assert big.kind is IndexKind.IVF_FLAT and big.nlist == ivf_cells(1_000_000) == 4096
    assert big.nprobe >= 8
    assert choose_spec(10**6, large=IndexKind.HNSW).kind is IndexKind.HNSW
    with pytest.raises(ValueError):
        choose_spec(-1)
