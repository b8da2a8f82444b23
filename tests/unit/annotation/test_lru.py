"""The byte-bounded LRU cache keeps the most recently used values within its budget."""

from __future__ import annotations

import pytest

from annotation.lru import ByteLRU


def test_evicts_least_recently_used_past_the_budget() -> None:
    c: ByteLRU[bytes] = ByteLRU(10, len)
    c.put("a", b"1234")
    c.put("b", b"1234")
    assert c.get("a") == b"1234"  # a is now the most recent
    c.put("c", b"1234")  # 12 > 10: drop b
    assert c.get("b") is None and c.get("a") == b"1234" and c.get("c") == b"1234"
    assert c.total_bytes == 8


def test_value_larger_than_budget_is_returned_not_kept() -> None:
    c: ByteLRU[bytes] = ByteLRU(3, len)
    assert c.get_or_make("k", lambda: b"too big") == b"too big"
    assert c.get("k") is None and c.misses == 1


def test_get_or_make_computes_once() -> None:
    calls: list[int] = []

    def make() -> bytes:
        calls.append(1)
        return b"v"

    c: ByteLRU[bytes] = ByteLRU(100, len)
    for _ in range(3):
        c.get_or_make("k", make)
    assert len(calls) == 1 and c.hits == 2


def test_budget_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ByteLRU(0, len)
