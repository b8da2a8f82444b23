"""Ed25519 keys for the ledger: the private key signs entries, the public key is for auditors.

The private key is a PKCS#8 PEM file (mode 0600, directory 0700) at
``settings.resolved_signing_key_file``, created on first use. Signatures are over the 32 raw
bytes of an entry's sha256 (``bytes.fromhex(entry_hash)``) and travel base64-encoded.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kouan.errors import KouanError, UsageError

log = logging.getLogger(__name__)


class Signer(Protocol):
    """What the ledger needs from a key: sign a digest, name the public key."""

    def sign(self, digest: bytes) -> bytes: ...

    def public_key(self) -> Ed25519PublicKey: ...


def _write_new_key(path: Path) -> None:
    """Create ``path`` with a fresh key, atomically and never over an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # fails if another process created the key first: keep theirs
            log.info("created ledger signing key %s", path)
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)


def load_private_key(path: Path, *, create: bool = True) -> Ed25519PrivateKey:
    """Load the PEM at ``path`` (creating it when missing and ``create``)."""
    if not path.exists():
        if not create:
            raise UsageError(f"signing key {path} does not exist")
        _write_new_key(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise KouanError(f"signing key {path} is not an unencrypted PEM key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KouanError(f"signing key {path} is not an Ed25519 key")
    return key


class FileSigner:
    """Signer backed by the key file; the file is read (or created) on the first signature."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._key: Ed25519PrivateKey | None = None
        self._lock = threading.Lock()

    def _load(self) -> Ed25519PrivateKey:
        if self._key is None:
            with self._lock:
                if self._key is None:
                    self._key = load_private_key(self.path)
        return self._key

    def sign(self, digest: bytes) -> bytes:
        return self._load().sign(digest)

    def public_key(self) -> Ed25519PublicKey:
        return self._load().public_key()

    def existing_public_key(self) -> Ed25519PublicKey | None:
        """The public key if the key file exists; never creates one (used by read-only checks)."""
        if self._key is None and not self.path.exists():
            return None
        return self.public_key()


class KeySigner:
    """Signer around an in-memory key (tests, benchmarks)."""

    def __init__(self, key: Ed25519PrivateKey | None = None) -> None:
        self._key = key or Ed25519PrivateKey.generate()

    def sign(self, digest: bytes) -> bytes:
        return self._key.sign(digest)

    def public_key(self) -> Ed25519PublicKey:
        return self._key.public_key()


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public_key_pem(pem: bytes, source: str = "public key") -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{source} is not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError(f"{source} is not an Ed25519 public key")
    return key


def fingerprint(key: Ed25519PublicKey) -> str:
    """``sha256:<hex>`` of the raw 32-byte public key, for auditors to compare out of band."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def encode_signature(sig: bytes) -> str:
    return base64.b64encode(sig).decode("ascii")


def signature_ok(key: Ed25519PublicKey, entry_hash_hex: str, signature_b64: str) -> bool:
    """True when ``signature_b64`` is a valid Ed25519 signature of the raw ``entry_hash``."""
    try:
        key.verify(base64.b64decode(signature_b64, validate=True), bytes.fromhex(entry_hash_hex))
    except (InvalidSignature, binascii.Error, ValueError, TypeError):
        return False
    return True
