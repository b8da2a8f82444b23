"""Encryption at rest for face templates, FAISS index blobs and probe images (AES-256-GCM).

Blob layout: ``b"KFT1" | nonce (12 bytes, random) | ciphertext | tag (16 bytes)``. Every blob is
bound to its storage context (e.g. ``gallery/watch-1/subject/S-9``) as associated data, so a
blob copied to another key fails to decrypt instead of silently changing who a template
belongs to. The key is 32 bytes from ``KOUAN_FACE_TEMPLATE_KEY_FILE`` (raw, or 64 hex chars),
created with mode 0600 on first use when absent.
"""

from __future__ import annotations

import binascii
import logging
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kouan.errors import KouanError

log = logging.getLogger(__name__)

MAGIC = b"KFT1"
NONCE_BYTES = 12
KEY_BYTES = 32


class TemplateDecryptError(KouanError):
    """A stored face blob could not be decrypted (wrong key, tampering or a moved blob)."""


def load_or_create_key(path: Path, *, create: bool = True) -> bytes:
    """The 32-byte key in ``path`` (raw bytes or hex text); a fresh random key is written
    (atomically, 0600, never over an existing file) when the file is missing and ``create``."""
    if not path.exists():
        if not create:
            raise KouanError(f"face template key {path} does not exist")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_hex(KEY_BYTES).encode("ascii") + b"\n")
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)  # another process won the race: keep its key
                log.info("created face template key %s", path)
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
    raw = path.read_bytes()
    if len(raw) == KEY_BYTES:
        return raw
    text = raw.strip()
    try:
        key = binascii.unhexlify(text)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise KouanError(f"face template key {path} must hold {KEY_BYTES} raw bytes or "
                         f"{2 * KEY_BYTES} hex characters")
    return key


class TemplateCipher:
    """AES-256-GCM with per-blob random nonces and a context string as associated data."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"key must be {KEY_BYTES} bytes, got {len(key)}")
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: bytes, context: str) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return MAGIC + nonce + self._aead.encrypt(nonce, plaintext, context.encode("utf-8"))

    def decrypt(self, blob: bytes, context: str) -> bytes:
        if len(blob) < len(MAGIC) + NONCE_BYTES + 16 or not blob.startswith(MAGIC):
            raise TemplateDecryptError(f"{context}: not an encrypted face blob")
        nonce = blob[len(MAGIC):len(MAGIC) + NONCE_BYTES]
        try:
            return self._aead.decrypt(nonce, blob[len(MAGIC) + NONCE_BYTES:],
                                      context.encode("utf-8"))
        except InvalidTag:
            raise TemplateDecryptError(f"{context}: decryption failed (wrong key "
                                       "KOUAN_FACE_TEMPLATE_KEY_FILE, or the blob was altered "
                                       "or moved)") from None
