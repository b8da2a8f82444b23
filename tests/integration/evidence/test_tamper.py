"""Every kind of tampering is detected and named, on the local directory and on S3.

Each case seals a small ledger into the store, tampers with the store the way an attacker with
raw write access would (bypassing the immutable API), then verifies the store alone
(``verify --store``) and the configured store + database.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kouan.cli.main import main
from kouan.config import get_settings
from kouan.evidence.keys import KeySigner
from kouan.evidence.service import EvidenceService, run_verify
from kouan.evidence.store import LocalObjectStore, ObjectStore
from kouan.services import Services
from tests.unit.evidence.helpers import TAMPERS, populate


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.integration)])
def backend(request: pytest.FixtureRequest, tmp_path) -> Iterator[tuple[str, ObjectStore]]:  # type: ignore[no-untyped-def]
    if request.param == "local":
        store: ObjectStore = LocalObjectStore(tmp_path / "evidence", 1 << 20)
        yield store.url, store
    else:
        server = request.getfixturevalue("s3_server")
        bucket = server.new_bucket()
        yield server.url(bucket), server.store(bucket)


@pytest.mark.parametrize("kind", sorted(TAMPERS))
def test_tampering_is_detected_and_named(kind: str, backend: tuple[str, ObjectStore],
                                         services: Services) -> None:
    _, store = backend
    signer = KeySigner()
    svc = EvidenceService(store, signer, services.sessions, retention_days=1)
    pop = populate(svc, cases=3, captures=2)
    svc.seal()
    before = run_verify(store, signer, services.sessions)
    assert before.ok, before.text()

    expected = TAMPERS[kind](store, pop)

    store_only = run_verify(store, signer, None)
    assert not store_only.ok
    assert expected in {p.where for p in store_only.problems}, store_only.text()
    with_db = run_verify(store, signer, services.sessions)
    assert not with_db.ok
    assert expected in {p.where for p in with_db.problems}, with_db.text()


def test_cli_verify_store_names_the_flipped_object(backend: tuple[str, ObjectStore],
                                                   services: Services,
                                                   capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """`kouan evidence verify --store URL` exits 0 when intact and 1 naming the object."""
    from tests.fixtures.s3 import ACCESS_KEY, SECRET_KEY

    url, store = backend
    monkeypatch.setenv("KOUAN_S3_ACCESS_KEY", ACCESS_KEY)
    monkeypatch.setenv("KOUAN_S3_SECRET_KEY", SECRET_KEY)
    get_settings.cache_clear()
    svc = EvidenceService(store, services.evidence.signer, services.sessions, retention_days=1)
    pop = populate(svc, cases=2, captures=1)
    svc.seal()
    assert main(["evidence", "verify", "--store", url]) == 0
    capsys.readouterr()
    expected = TAMPERS["flipped_byte"](store, pop)
    assert main(["evidence", "verify", "--store", url]) == 1
    assert expected in capsys.readouterr().out
