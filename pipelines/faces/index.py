"""FAISS vector index for face templates, chosen by gallery size (the ``VectorIndex`` seam).

Metric: Euclidean (FAISS ``METRIC_L2`` returns squared distances; we return their square root
so one threshold serves 1:1 and 1:N). Ids are int64 template ids.

==========  ======================  ============================================================
kind        used for                notes
==========  ======================  ============================================================
flat        n <= ``EXACT_MAX``      exact; incremental add/remove (``IDMap2,Flat``)
ivf_flat    larger galleries        inverted lists over k-means cells, full vectors in the lists:
                                    recall@1 >= 0.99 at a few ms per query at 1 M (see
                                    bench/results/faces.json); add/remove native; needs training
ivf_pq      memory-bound galleries  product-quantised lists (``pq_m`` bytes/vector instead of
                                    512): ~30x less memory, lower recall (distances are
                                    approximate); add/remove native; needs training
hnsw        low-latency option      graph; no native delete, so removals are tombstones that
                                    searches skip until ``rebuild``; slow to build on 2 cores
==========  ======================  ============================================================
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, Protocol

import faiss
import numpy as np
import numpy.typing as npt

EXACT_MAX = 20_000


class IndexKind(StrEnum):
    FLAT = "flat"
    IVF_FLAT = "ivf_flat"
    IVF_PQ = "ivf_pq"
    HNSW = "hnsw"


@dataclass(frozen=True)
class IndexSpec:
    """How to build one index. ``nlist``/``nprobe``: IVF cells and cells searched;
    ``pq_m``: PQ sub-quantisers (bytes per vector at 8 bits); ``hnsw_m``/``ef_*``: HNSW
    graph degree and beam widths."""

    kind: IndexKind
    nlist: int = 0
    nprobe: int = 1
    pq_m: int = 16
    hnsw_m: int = 32
    ef_construction: int = 80
    ef_search: int = 64

    def factory(self) -> str:
        if self.kind is IndexKind.FLAT:
            return "IDMap2,Flat"
        if self.kind is IndexKind.IVF_FLAT:
            return f"IVF{self.nlist},Flat"
        if self.kind is IndexKind.IVF_PQ:
            # "np": no polysemous training (100x slower to train, unused by our searches)
            return f"IVF{self.nlist},PQ{self.pq_m}np"
        return f"IDMap2,HNSW{self.hnsw_m}"

    @property
    def needs_training(self) -> bool:
        return self.kind in (IndexKind.IVF_FLAT, IndexKind.IVF_PQ)


def ivf_cells(n: int) -> int:
    """IVF list count for ``n`` vectors: ~4 sqrt(n), a power of two in [64, 16384]."""
    target = 4.0 * math.sqrt(max(n, 1))
    return int(min(16384, max(64, 2 ** round(math.log2(target)))))


def choose_spec(n: int, *, large: IndexKind = IndexKind.IVF_FLAT,
                exact_max: int = EXACT_MAX) -> IndexSpec:
    """Exact search up to ``exact_max`` vectors, else ``large`` sized for ``n``."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if n <= exact_max or large is IndexKind.FLAT:
        return IndexSpec(IndexKind.FLAT)
    if large is IndexKind.HNSW:
        return IndexSpec(IndexKind.HNSW)
    nlist = ivf_cells(n)
    # nprobe = 2 sqrt(nlist): 64 of 1024 cells at 100 k (recall@1 0.997), 128 of 4096 at 1 M
    # (0.992) on synthetic data clustered like real dlib embeddings (bench/results/faces.json).
    nprobe = max(16, round(2 * math.sqrt(nlist)))
    return IndexSpec(large, nlist=nlist, nprobe=nprobe)


class VectorIndex(Protocol):
    spec: IndexSpec

    @property
    def size(self) -> int: ...

    def add(self, vectors: npt.NDArray[np.float32], ids: npt.NDArray[np.int64]) -> None: ...

    def remove(self, ids: npt.NDArray[np.int64]) -> int: ...

    def search(self, queries: npt.NDArray[np.float32], k: int) -> tuple[
        npt.NDArray[np.float32], npt.NDArray[np.int64]]: ...

    def to_bytes(self) -> bytes: ...


def _f32(x: npt.ArrayLike, dim: int) -> npt.NDArray[np.float32]:
    arr = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ValueError(f"vectors must be [N, {dim}], got {arr.shape}")
    return arr


def _i64(x: npt.ArrayLike) -> npt.NDArray[np.int64]:
    return np.ascontiguousarray(np.asarray(x, dtype=np.int64).reshape(-1))


class FaissIndex:
    """One FAISS index plus what FAISS cannot store for us (HNSW tombstones)."""

    def __init__(self, spec: IndexSpec, dim: int, index: Any | None = None,
                 tombstones: set[int] | None = None) -> None:
        self.spec = spec
        self.dim = dim
        self._index: Any = index if index is not None else faiss.index_factory(
            dim, spec.factory(), faiss.METRIC_L2)
        self._tombstones: set[int] = set(tombstones or ())
        self._apply_search_params()

    def _apply_search_params(self) -> None:
        if self.spec.kind in (IndexKind.IVF_FLAT, IndexKind.IVF_PQ):
            faiss.extract_index_ivf(self._index).nprobe = self.spec.nprobe
        elif self.spec.kind is IndexKind.HNSW:
            hnsw: Any = faiss.downcast_index(self._index.index)
            hnsw.hnsw.efSearch = self.spec.ef_search
            hnsw.hnsw.efConstruction = self.spec.ef_construction

    def tune(self, *, nprobe: int | None = None, ef_search: int | None = None) -> None:
        """Change search-time knobs (IVF cells visited, HNSW beam width) in place."""
        from dataclasses import replace

        if nprobe is not None:
            self.spec = replace(self.spec, nprobe=nprobe)
        if ef_search is not None:
            self.spec = replace(self.spec, ef_search=ef_search)
        self._apply_search_params()

    @classmethod
    def build(cls, spec: IndexSpec, vectors: npt.ArrayLike, ids: npt.ArrayLike,
              dim: int = 128, *, train_max: int = 200_000, seed: int = 0) -> FaissIndex:
        """A new index holding ``vectors`` (``[N, dim]``) under ``ids`` (``[N]``); IVF kinds
        are trained on (a random sample of at most ``train_max`` of) the same vectors."""
        x, i = _f32(vectors, dim), _i64(ids)
        if len(x) != len(i):
            raise ValueError(f"{len(x)} vectors but {len(i)} ids")
        out = cls(spec, dim)
        if spec.needs_training:
            if len(x) < spec.nlist:
                raise ValueError(f"{spec.kind} with {spec.nlist} cells needs >= {spec.nlist} "
                                 f"vectors to train, got {len(x)}")
            sample = x
            if len(x) > train_max:
                pick = np.random.default_rng(seed).choice(len(x), train_max, replace=False)
                sample = x[np.sort(pick)]
            out._index.train(sample)
        if len(x):
            out.add(x, i)
        return out

    @property
    def size(self) -> int:
        """Live vectors (tombstoned HNSW entries excluded)."""
        return int(self._index.ntotal) - len(self._tombstones)

    @property
    def tombstones(self) -> int:
        return len(self._tombstones)

    def add(self, vectors: npt.NDArray[np.float32], ids: npt.NDArray[np.int64]) -> None:
        x, i = _f32(vectors, self.dim), _i64(ids)
        if len(x) != len(i):
            raise ValueError(f"{len(x)} vectors but {len(i)} ids")
        if self._tombstones.intersection(i.tolist()):
            raise ValueError("cannot re-add a removed id before rebuild")
        self._index.add_with_ids(x, i)

    def remove(self, ids: npt.NDArray[np.int64]) -> int:
        i = _i64(ids)
        if self.spec.kind is IndexKind.HNSW:
            before = len(self._tombstones)
            self._tombstones.update(i.tolist())
            return len(self._tombstones) - before
        return int(self._index.remove_ids(i))

    def search(self, queries: npt.NDArray[np.float32], k: int) -> tuple[
            npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """``k`` nearest ids per query (``-1`` where fewer exist) and their Euclidean
        distances (``inf`` there): float32 / int64 ``[Q, k]``."""
        q = _f32(queries, self.dim)
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if self._index.ntotal == 0:
            return (np.full((len(q), k), np.inf, np.float32), np.full((len(q), k), -1, np.int64))
        extra = min(len(self._tombstones), 1000)
        d2, ids = self._index.search(q, k + extra)
        if extra:
            dead = np.isin(ids, np.fromiter(self._tombstones, dtype=np.int64))
            d2 = np.where(dead, np.inf, d2)
            ids = np.where(dead, -1, ids)
            order = np.argsort(d2, axis=1, kind="stable")
            d2 = np.take_along_axis(d2, order, axis=1)
            ids = np.take_along_axis(ids, order, axis=1)
        d2, ids = d2[:, :k], ids[:, :k]
        dist = np.where(ids >= 0, np.sqrt(np.maximum(d2, 0.0)), np.inf).astype(np.float32)
        return dist, ids.astype(np.int64)

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        header = json.dumps({"spec": asdict(self.spec), "dim": self.dim}).encode("utf-8")
        np.savez(buf, header=np.frombuffer(header, dtype=np.uint8),
                 faiss=faiss.serialize_index(self._index),
                 tombstones=np.array(sorted(self._tombstones), dtype=np.int64))
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> FaissIndex:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            header = json.loads(z["header"].tobytes().decode("utf-8"))
            index = faiss.deserialize_index(z["faiss"])
            tombstones = set(z["tombstones"].tolist())
        spec_d = header["spec"]
        spec = IndexSpec(**{**spec_d, "kind": IndexKind(spec_d["kind"])})
        return cls(spec, int(header["dim"]), index, tombstones)
