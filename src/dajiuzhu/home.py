"""The platform's home directory ($DAJIUZHU_HOME): database, keys, queue storage, lake.

Every entry point (settings, CLI) calls :func:`ensure_home` so that a fresh home is
initialised on first use. Keys are generated once, written with mode 0600 and never
committed; each may instead come from the environment (base64), which production uses.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

KEY_FILES = {
    # name -> (environment variable, length in bytes)
    "secret": ("DJANGO_SECRET_KEY", 50),
    "data": ("DAJIUZHU_DATA_KEY", 32),  # AES-256-GCM for ID numbers and phones
    "index": ("DAJIUZHU_INDEX_KEY", 32),  # HMAC-SHA256 for blind indexes and person_key
    "audit": ("DAJIUZHU_AUDIT_KEY", 32),  # HMAC-SHA256 of the audit chain and its checkpoints
    "upload": ("DAJIUZHU_UPLOAD_KEY", 32),  # AES-256-GCM of uploads waiting for the worker
}


def home_dir() -> Path:
    return Path(os.environ.get("DAJIUZHU_HOME", "var")).expanduser().resolve()


def ensure_home(home: Path | None = None) -> Path:
    home = home or home_dir()
    for sub in ("keys", "lake", "huey", "media", "exports"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(home / "keys", 0o700)
    for name, (env, length) in KEY_FILES.items():
        path = home / "keys" / f"{name}.key"
        if os.environ.get(env) or path.exists():
            continue
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(base64.b64encode(secrets.token_bytes(length)).decode())
    return home


def load_key(name: str, home: Path | None = None) -> bytes:
    env, _length = KEY_FILES[name]
    value = os.environ.get(env)
    if not value:
        value = ((home or home_dir()) / "keys" / f"{name}.key").read_text().strip()
    return base64.b64decode(value)
