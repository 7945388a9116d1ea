"""Field encryption (AES-256-GCM) and keyed blind indexes (HMAC-SHA256).

* ``encrypt``/``decrypt``: a random 96-bit nonce is prepended to the ciphertext; the field's
  name is bound as associated data so a ciphertext cannot be moved to another field.
* ``id_index``: HMAC-SHA256(index_key, id_number) in hex: the blind index for exact lookup.
* ``person_key``: the first 64 bits of that same HMAC as an integer (offset by 2^63 to fit a
  signed 64-bit column) — the pseudonym the lake carries instead of the ID number (see
  docs/decisions/0001-person-key-64-bit.md).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dajiuzhu.home import load_key


@lru_cache(maxsize=1)
def data_key() -> bytes:
    return load_key("data")


@lru_cache(maxsize=1)
def index_key() -> bytes:
    return load_key("index")


def reset_key_cache() -> None:
    data_key.cache_clear()
    index_key.cache_clear()


def encrypt(plaintext: str, *, field: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(data_key()).encrypt(nonce, plaintext.encode(), field.encode())


def decrypt(blob: bytes | memoryview, *, field: str) -> str:
    blob = bytes(blob)
    return AESGCM(data_key()).decrypt(blob[:12], blob[12:], field.encode()).decode()


def id_digest(id_number: str) -> bytes:
    return hmac.digest(index_key(), id_number.encode(), "sha256")


def id_index(id_number: str) -> str:
    return id_digest(id_number).hex()


def person_key_from_digest(digest: bytes) -> int:
    """The first 64 bits of the digest as an unsigned integer, shifted by 2^63 into the
    signed 64-bit range (a bijection; DuckDB computes the same in SQL)."""
    return int.from_bytes(digest[:8], "big") - (1 << 63)


def person_key(id_number: str) -> int:
    return person_key_from_digest(id_digest(id_number))


def phone_index(phone: str) -> str:
    # A separate domain so that a phone index can never equal an ID index.
    return hmac.digest(index_key(), b"phone:" + phone.encode(), "sha256").hex()


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
