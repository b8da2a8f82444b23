"""LocalObjectStore: immutable puts, safe keys, size limit, listing."""

from __future__ import annotations

from pathlib import Path

import pytest

from kouan.evidence.errors import InvalidObjectKey, ObjectConflict, ObjectNotFound, ObjectTooLarge
from kouan.evidence.store import LocalObjectStore, check_key


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "ev", max_object_bytes=100)


def test_put_get_exists_list(store: LocalObjectStore) -> None:
    assert store.put("objects/a/b", b"one") is True
    assert store.put("objects/a/c", b"two") is True
    assert store.put("cases/x/m.json", b"{}") is True
    assert store.get("objects/a/b") == b"one"
    assert store.exists("objects/a/b") and not store.exists("objects/a/zz")
    assert list(store.list("objects/")) == ["objects/a/b", "objects/a/c"]
    assert list(store.list("objects/a/c")) == ["objects/a/c"]
    assert list(store.list()) == ["cases/x/m.json", "objects/a/b", "objects/a/c"]
    assert list(store.list("nothing/")) == []


def test_objects_are_immutable(store: LocalObjectStore) -> None:
    store.put("k/v", b"original")
    assert store.put("k/v", b"original") is False  # same bytes: no-op
    with pytest.raises(ObjectConflict):
        store.put("k/v", b"changed")
    assert store.get("k/v") == b"original"
    assert (store.root / "k" / "v").stat().st_mode & 0o777 == 0o444


@pytest.mark.parametrize("key", [
    "../etc/passwd", "a/../../b", "/abs/path", "a//b", "a/./b", ".", "", "a/b/",
    "with\nnewline", "tab\there", "nul\x00byte", "del\x7f", "c1\x85", "back\\slash",
    "C:/windows", ".kouan-tmp/x", "x" * 1025,
])
def test_bad_keys_are_refused_and_nothing_is_written(store: LocalObjectStore, key: str) -> None:
    with pytest.raises(InvalidObjectKey):
        store.put(key, b"data")
    with pytest.raises(InvalidObjectKey):
        store.get(key)
    assert not store.root.exists() or not any(p.is_file() for p in store.root.rglob("*"))


def test_good_keys_pass() -> None:
    for key in ["objects/sha256/ab/cd/" + "a" * 64, "cases/psg-1.a:b/manifests/1.json", "a..b/c"]:
        assert check_key(key) == key


def test_oversized_object_is_refused(store: LocalObjectStore) -> None:
    store.put("keep", b"x")
    with pytest.raises(ObjectTooLarge, match="limit"):
        store.put("big", b"x" * 101)
    assert not store.exists("big") and store.get("keep") == b"x"


def test_missing_object(store: LocalObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        store.get("objects/none")
