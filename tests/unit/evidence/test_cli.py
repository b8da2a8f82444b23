"""`kouan evidence ...` exit codes: 0 intact, 1 broken (naming the object), 2 bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from kouan.cli.main import main
from kouan.config import get_settings
from kouan.evidence.layout import object_key
from kouan.services import build_services
from tests.unit.evidence.helpers import flip_byte, local_store_of, populate


@pytest.fixture
def populated() -> dict[str, list[str]]:
    svc = build_services(get_settings())
    try:
        return populate(svc.evidence, cases=2, captures=2).captures
    finally:
        svc.close()


def test_verify_intact_then_flipped_byte(populated: dict[str, list[str]],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evidence", "verify"]) == 0
    assert main(["evidence", "seal"]) == 0
    assert main(["evidence", "verify"]) == 0
    assert main(["evidence", "verify", "--full", "--json"]) == 0
    capsys.readouterr()
    svc = build_services(get_settings())
    key = object_key(populated["psg-1"][1])
    flip_byte(local_store_of(svc.evidence), key, pos=3)
    svc.close()
    assert main(["evidence", "verify"]) == 1
    out = capsys.readouterr().out
    assert "BROKEN" in out and key in out


@pytest.mark.parametrize("pos", [0, 100, 777, 2000, -2])
def test_any_byte_of_a_segment_or_manifest(populated: dict[str, list[str]], pos: int) -> None:
    assert main(["evidence", "seal"]) == 0
    svc = build_services(get_settings())
    store = local_store_of(svc.evidence)
    for key in (next(iter(store.list("ledger/segments/"))), next(iter(store.list("cases/")))):
        flip_byte(store, key, pos=pos)
        assert not svc.evidence.verify().ok
        flip_byte(store, key, pos=pos)  # restore
        assert svc.evidence.verify().ok
    svc.close()


def test_public_key_show_flush(populated: dict[str, list[str]], tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evidence", "public-key"]) == 0
    assert capsys.readouterr().out.startswith("-----BEGIN PUBLIC KEY-----")
    pem = tmp_path / "pub.pem"
    assert main(["evidence", "public-key", "--out", str(pem)]) == 0
    assert main(["evidence", "verify", "--public-key", str(pem)]) == 0
    assert main(["evidence", "show", "psg-0"]) == 0
    assert '"case_id": "psg-0"' in capsys.readouterr().out
    assert main(["evidence", "flush"]) == 0


@pytest.mark.parametrize("argv", [
    ["evidence", "show", "no-such-case"],
    ["evidence", "show", "../etc"],
    ["evidence", "verify", "--store", "ftp://x/y"],
    ["evidence", "verify", "--store", "s3://host:9000/A"],
    ["evidence", "verify", "--store", "file:///tmp/x", "--bundle", "b.zip"],
    ["evidence", "verify", "--public-key", "/nonexistent.pem"],
])
def test_bad_input_exits_2(populated: dict[str, list[str]], argv: list[str]) -> None:
    assert main(argv) == 2


def test_wrong_pinned_key_fails(populated: dict[str, list[str]], tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kouan.evidence.keys import public_key_pem

    other = tmp_path / "other.pem"
    other.write_bytes(public_key_pem(Ed25519PrivateKey.generate().public_key()))
    assert main(["evidence", "verify", "--public-key", str(other)]) == 1


def test_verify_other_store_without_local_key(populated: dict[str, list[str]],
                                              monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    """An auditor's machine: no signing key; the store's own public key is used (unpinned)."""
    settings = get_settings()
    url = settings.resolved_evidence_url
    assert main(["evidence", "seal"]) == 0
    monkeypatch.setenv("KOUAN_DATA_DIR", str(tmp_path / "auditor"))
    get_settings.cache_clear()
    assert main(["evidence", "verify", "--store", url]) == 0
    assert not (tmp_path / "auditor").exists()  # verify --store writes nothing
