"""Uploaded files waiting for the worker, encrypted at rest (docs/decisions/0004).

An upload holds full ID numbers. It is written to ``$DAJIUZHU_HOME/uploads/`` (directory 0700,
file 0600) encrypted with AES-256-GCM under the upload key (``keys/upload.key`` or
``DAJIUZHU_UPLOAD_KEY``) in chunks of 1 MiB, so that neither a large file nor a streamed
request needs to be held in memory:

    MAGIC | nonce prefix (8 bytes) | chunks: flag (1 byte) | length (4 bytes) | ciphertext+tag

Chunk *i* is sealed with nonce = prefix ‖ i (32-bit) and associated data binding it to its
file's name, its index and whether it is the last chunk: chunks cannot be reordered, moved to
another file or dropped from the end without the tag failing. The worker decrypts into a
private staging folder just for the ingestion and removes that copy and the upload when the
batch is published or failed (exchange/services.py); ``uploads_sweep`` removes uploads no live
batch refers to.
"""

from __future__ import annotations

import os
import struct
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from dajiuzhu.home import load_key

MAGIC = b"DJZUPLOAD1\n"
CHUNK = 1 << 20
_HEADER = struct.Struct(">BI")  # last-chunk flag, ciphertext length


class UploadUnreadable(Exception):
    """The stored upload was altered, truncated or sealed with another key."""


@lru_cache(maxsize=1)
def _key() -> bytes:
    return load_key("upload")


def reset_key_cache() -> None:
    _key.cache_clear()


def uploads_dir() -> Path:
    path = Path(settings.HOME) / "uploads"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def _aad(path: Path, index: int, last: bool) -> bytes:
    return f"dajiuzhu-upload:{path.name}:{index}:{int(last)}".encode()


class UploadWriter:
    """Write an upload encrypted, chunk by chunk; ``close()`` seals the last chunk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._prefix = os.urandom(8)
        self._index = 0
        self._buffer = bytearray()
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(self._fd, MAGIC + self._prefix)

    def _seal(self, data: bytes, last: bool) -> None:
        nonce = self._prefix + struct.pack(">I", self._index)
        sealed = AESGCM(_key()).encrypt(nonce, data, _aad(self.path, self._index, last))
        os.write(self._fd, _HEADER.pack(int(last), len(sealed)) + sealed)
        self._index += 1

    def write(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) > CHUNK:  # keep at least one byte back for the last chunk
            self._seal(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]

    def close(self) -> None:
        self._seal(bytes(self._buffer), last=True)
        self._buffer.clear()
        os.fsync(self._fd)
        os.close(self._fd)

    def abort(self) -> None:
        os.close(self._fd)
        self.path.unlink(missing_ok=True)


def upload_store(chunks, path: Path) -> None:
    writer = UploadWriter(path)
    try:
        for chunk in chunks:
            writer.write(chunk)
    except BaseException:
        writer.abort()
        raise
    writer.close()


def upload_decrypt(path: Path, dest: Path) -> Path:
    """Decrypt an upload into ``dest`` (created 0600). An upload written before encryption
    (no MAGIC: a queue left by an earlier version) is copied as it is."""
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with path.open("rb") as src:
            head = src.read(len(MAGIC))
            if head != MAGIC:
                os.write(fd, head)
                while block := src.read(CHUNK):
                    os.write(fd, block)
                return dest
            prefix = src.read(8)
            index, last = 0, False
            while not last:
                header = src.read(_HEADER.size)
                if len(header) < _HEADER.size:
                    raise UploadUnreadable("truncated")
                flag, length = _HEADER.unpack(header)
                last = bool(flag)
                sealed = src.read(length)
                if len(sealed) < length:
                    raise UploadUnreadable("truncated")
                nonce = prefix + struct.pack(">I", index)
                try:
                    data = AESGCM(_key()).decrypt(nonce, sealed, _aad(path, index, last))
                except InvalidTag:
                    raise UploadUnreadable("altered") from None
                os.write(fd, data)
                index += 1
            if src.read(1):
                raise UploadUnreadable("trailing data")
    finally:
        os.close(fd)
    return dest
