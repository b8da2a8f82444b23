"""Galleries: enrol, search, remove, persistence, stale-index rebuild, growth, encryption."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kouan.errors import UsageError
from pipelines.faces.blobstore import LocalBlobStore
from pipelines.faces.crypto import TemplateCipher
from pipelines.faces.gallery import (
    Gallery,
    GalleryKind,
    GalleryRepository,
    UnknownGallery,
    UnknownSubject,
)
from pipelines.faces.index import IndexKind

KEY = b"g" * 32


def person(seed: int, n: int = 1, spread: float = 0.05) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centre = rng.normal(0, 0.12, 128)
    return (centre + rng.normal(0, spread / np.sqrt(128), (n, 128))).astype(np.float32)


@pytest.fixture
def repo(tmp_path: Path) -> GalleryRepository:
    return GalleryRepository(LocalBlobStore(tmp_path / "faces"), TemplateCipher(KEY))


def test_enrol_search_remove(repo: GalleryRepository) -> None:
    g = repo.create("watch-1", GalleryKind.WATCHLIST)
    for i in range(5):
        g.enroll(f"S{i}", person(i, 2), [f"{i:064x}", f"{i + 100:064x}"])
    assert (g.meta.subjects, g.meta.templates) == (5, 10)
    hits = g.search(person(3, 1, spread=0.02), k=2)[0]
    assert hits[0].subject_id == "S3" and hits[0].distance < 0.2
    assert hits[1].subject_id != "S3"  # one candidate per subject
    assert g.remove("S3") == 2
    assert all(c.subject_id != "S3" for c in g.search(person(3), k=5)[0])
    with pytest.raises(UnknownSubject):
        g.remove("S3")
    g.enroll("S0", person(0), ["a" * 64])  # more photos for an existing subject
    assert len(g.get_subject("S0").templates) == 3 and g.meta.subjects == 4


def test_persistence_and_stale_index_rebuild(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "faces")
    repo = GalleryRepository(store, TemplateCipher(KEY))
    g = repo.create("staff", GalleryKind.STAFF)
    g.enroll("B-1", person(1), ["1" * 64])
    g.enroll("B-2", person(2), ["2" * 64])
    fresh = GalleryRepository(store, TemplateCipher(KEY)).open("staff")
    assert fresh.meta.kind is GalleryKind.STAFF and fresh.index.size == 2
    assert fresh.search(person(2))[0][0].subject_id == "B-2"
    # Simulate a crash after the subject blob was written but before the index: drop the index.
    store.delete(Gallery.index_key("staff"))
    rebuilt = GalleryRepository(store, TemplateCipher(KEY)).open("staff")
    assert rebuilt.index.size == 2 and rebuilt.search(person(1))[0][0].subject_id == "B-1"


def test_templates_are_encrypted_at_rest(tmp_path: Path) -> None:
    root = tmp_path / "faces"
    repo = GalleryRepository(LocalBlobStore(root), TemplateCipher(KEY))
    emb = person(7)
    repo.create("w", GalleryKind.WATCHLIST).enroll("secret-id", emb, ["7" * 64])
    needle = emb[0].astype("<f4").tobytes()[:16]
    files = [p for p in root.rglob("*") if p.is_file()]
    assert {p.name for p in files} == {"meta.json", "secret-id.bin", "index.bin"}
    for p in files:
        data = p.read_bytes()
        assert needle not in data, p
        if p.name != "meta.json":
            assert data.startswith(b"KFT1") and b"secret-id" not in data
        assert p.stat().st_mode & 0o077 == 0  # not readable by group/others
    other = GalleryRepository(LocalBlobStore(root), TemplateCipher(b"x" * 32))
    with pytest.raises(Exception, match="decryption failed"):
        other.open("w").get_subject("secret-id")


def test_grows_into_ivf_and_back(tmp_path: Path) -> None:
    repo = GalleryRepository(LocalBlobStore(tmp_path / "f"), TemplateCipher(KEY), exact_max=300)
    g = repo.create("big", GalleryKind.WATCHLIST)
    rng = np.random.default_rng(0)
    for i in range(4):
        g.enroll(f"bulk{i}", rng.normal(0, 0.12, (100, 128)).astype(np.float32),
                 [f"{j:064x}" for j in range(100)])
    assert g.index.spec.kind is IndexKind.IVF_FLAT and g.index.size == 400
    g.enroll("needle", person(42), ["f" * 64])
    assert g.search(person(42))[0][0].subject_id == "needle"
    spec = g.rebuild()
    assert spec.kind is IndexKind.IVF_FLAT
    for i in range(3):
        g.remove(f"bulk{i}")
    assert g.rebuild().kind is IndexKind.FLAT and g.index.size == 101


def test_names_kinds_and_errors(repo: GalleryRepository) -> None:
    repo.create("a", GalleryKind.WATCHLIST)
    repo.create("b", GalleryKind.STAFF)
    assert repo.names() == ["a", "b"]
    assert repo.create("a", GalleryKind.WATCHLIST).meta.name == "a"  # idempotent
    with pytest.raises(UsageError, match="is a watchlist"):
        repo.create("a", GalleryKind.STAFF)
    with pytest.raises(UnknownGallery, match="known: a, b"):
        repo.open("nope")
    with pytest.raises(UsageError):
        repo.create("../etc", GalleryKind.WATCHLIST)
    with pytest.raises(UsageError):
        repo.open("a").enroll("bad/id", person(1), ["0" * 64])
    assert repo.delete("a") == 2 and repo.names() == ["b"]
