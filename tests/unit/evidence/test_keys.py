"""Signing key file: created 0600 on first use, reused afterwards, public key exportable."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from kouan.errors import KouanError, UsageError
from kouan.evidence.keys import (
    FileSigner,
    fingerprint,
    load_private_key,
    load_public_key_pem,
    public_key_pem,
    signature_ok,
)


def test_key_created_once_with_private_mode(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "k.pem"
    signer = FileSigner(path)
    assert signer.existing_public_key() is None and not path.exists()
    sig = signer.sign(b"\x01" * 32)
    assert os.stat(path).st_mode & 0o777 == 0o600
    again = FileSigner(path)
    assert again.sign(b"\x01" * 32) == sig  # Ed25519 is deterministic: same key reloaded
    pem = public_key_pem(again.public_key())
    assert fingerprint(load_public_key_pem(pem)) == fingerprint(signer.public_key())
    b64 = base64.b64encode(sig).decode()
    assert signature_ok(signer.public_key(), "01" * 32, b64)
    assert not signature_ok(signer.public_key(), "02" * 32, b64)
    assert not signature_ok(signer.public_key(), "01" * 32, "not base64!")


def test_bad_key_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("garbage")
    with pytest.raises(KouanError, match="not an unencrypted PEM"):
        load_private_key(bad)
    with pytest.raises(UsageError, match="does not exist"):
        load_private_key(tmp_path / "none.pem", create=False)
    with pytest.raises(UsageError):
        load_public_key_pem(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
