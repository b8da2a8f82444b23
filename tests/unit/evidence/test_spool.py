"""SpoolingObjectStore with a fake inner store that can be switched off (a seam fake)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kouan.evidence.errors import ObjectConflict, StoreUnavailable
from kouan.evidence.spool import SpoolingObjectStore
from kouan.evidence.store import LocalObjectStore


class FlakyStore(LocalObjectStore):
    """A local store that raises StoreUnavailable while ``down``."""

    down = False

    def _gate(self) -> None:
        if self.down:
            raise StoreUnavailable("endpoint down")

    def put(self, key: str, data: bytes, retention_days: int | None = None) -> bool:
        self._gate()
        return super().put(key, data, retention_days)

    def get(self, key: str) -> bytes:
        self._gate()
        return super().get(key)

    def exists(self, key: str) -> bool:
        self._gate()
        return super().exists(key)

    def list(self, prefix: str = "") -> Iterator[str]:
        self._gate()
        return super().list(prefix)


@pytest.fixture
def pair(tmp_path: Path) -> tuple[FlakyStore, SpoolingObjectStore]:
    inner = FlakyStore(tmp_path / "remote", 1000)
    return inner, SpoolingObjectStore(inner, tmp_path / "spool", max_object_bytes=1000,
                                      retry_after_s=0.0)


def test_writes_spool_while_down_and_flush_on_next_success(pair) -> None:  # type: ignore[no-untyped-def]
    inner, store = pair
    store.put("a/1", b"one")
    inner.down = True
    store.put("a/2", b"two", retention_days=5)
    store.put("a/3", b"three")
    assert store.pending() == 2
    assert store.get("a/2") == b"two" and store.exists("a/3")
    with pytest.raises(StoreUnavailable):
        store.flush()
    assert store.pending() == 2
    inner.down = False
    store.put("a/4", b"four")  # success -> flush
    assert store.pending() == 0
    assert [inner.get(k) for k in ("a/1", "a/2", "a/3", "a/4")] == [b"one", b"two", b"three",
                                                                    b"four"]
    assert list(store.list("a/")) == ["a/1", "a/2", "a/3", "a/4"]


def test_spool_keeps_immutability(pair) -> None:  # type: ignore[no-untyped-def]
    inner, store = pair
    inner.down = True
    store.put("k", b"v")
    store.put("k", b"v")
    with pytest.raises(ObjectConflict):
        store.put("k", b"other")
    assert store.pending() == 1 and store.get("k") == b"v"


def test_survives_a_new_process(pair, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    inner, store = pair
    inner.down = True
    store.put("x/y", b"durable")
    inner.down = False
    fresh = SpoolingObjectStore(inner, tmp_path / "spool", max_object_bytes=1000)
    assert fresh.pending() == 1 and fresh.flush() == 1 and inner.get("x/y") == b"durable"


def test_damaged_spool_file_is_not_uploaded(pair, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    inner, store = pair
    inner.down = True
    store.put("x/z", b"payload")
    [binf] = list((tmp_path / "spool").glob("*.bin"))
    binf.write_bytes(b"tampered")
    inner.down = False
    with pytest.raises(ObjectConflict, match="damaged"):
        store.flush()
    assert not inner.exists("x/z") and store.pending() == 1
