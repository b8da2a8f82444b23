"""Encryption at rest and probe retention."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from kouan.errors import KouanError
from pipelines.faces.blobstore import LocalBlobStore
from pipelines.faces.crypto import TemplateCipher, TemplateDecryptError, load_or_create_key
from pipelines.faces.probes import ProbeStore


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "face.key"
    key = load_or_create_key(path)
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == key
    raw = tmp_path / "raw.key"
    raw.write_bytes(b"k" * 32)
    assert load_or_create_key(raw) == b"k" * 32
    bad = tmp_path / "bad.key"
    bad.write_text("not a key")
    with pytest.raises(KouanError, match="32 raw bytes"):
        load_or_create_key(bad)
    with pytest.raises(KouanError, match="does not exist"):
        load_or_create_key(tmp_path / "missing.key", create=False)


def test_cipher_binds_context_and_detects_tampering() -> None:
    c = TemplateCipher(b"a" * 32)
    blob = c.encrypt(b"template bytes", "galleries/w/subjects/s1.bin")
    assert b"template bytes" not in blob
    assert c.decrypt(blob, "galleries/w/subjects/s1.bin") == b"template bytes"
    assert c.encrypt(b"x", "k") != c.encrypt(b"x", "k")  # fresh nonce each time
    with pytest.raises(TemplateDecryptError, match="moved"):
        c.decrypt(blob, "galleries/w/subjects/s2.bin")
    with pytest.raises(TemplateDecryptError):
        TemplateCipher(b"b" * 32).decrypt(blob, "galleries/w/subjects/s1.bin")
    flipped = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(TemplateDecryptError):
        c.decrypt(flipped, "galleries/w/subjects/s1.bin")
    with pytest.raises(TemplateDecryptError, match="not an encrypted"):
        c.decrypt(b"plain", "k")
    with pytest.raises(ValueError):
        TemplateCipher(b"short")


def test_probes_expire_after_retention(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "faces")
    probes = ProbeStore(store, TemplateCipher(b"p" * 32), retention_s=3600)
    old = probes.put(b"old face", now=1_000_000)
    new = probes.put(b"new face", now=1_000_000 + 3000)
    assert probes.get(old) == b"old face"
    raw = [store.get(k) for k in store.list("probes/")]
    assert all(b"face" not in r for r in raw)  # encrypted at rest
    report = probes.purge(now=1_000_000 + 3700)
    assert (report.deleted, report.kept) == (1, 1)
    assert probes.ids() == [new]
    assert probes.delete(new) and not probes.delete(new)
    with pytest.raises(KouanError):
        probes.get("../etc/passwd")
