"""Uploaded files: PDF, JPEG or PNG recognised by their first bytes (not their name), at most
10 MB."""

from __future__ import annotations

import hashlib

from dajiuzhu.core.services import ServiceError

MAX_BYTES = 10 * 1024 * 1024
MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def sniff(data: bytes) -> str:
    """The content type of an accepted upload; a ServiceError for anything else."""
    if not data:
        raise ServiceError("upload.empty", "上传的文件是空的,请重新选择", field="file")
    if len(data) > MAX_BYTES:
        raise ServiceError("upload.too_large", "文件不能超过10MB,请压缩后重新上传", field="file")
    for magic, content_type in MAGIC:
        if data.startswith(magic):
            return content_type
    raise ServiceError(
        "upload.type", "只能上传PDF、JPEG或PNG格式的文件(请用扫描件或照片)", field="file"
    )


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def clean_name(name: str) -> str:
    name = "".join(ch for ch in (name or "") if ch.isprintable() and ch not in "/\\")
    return (name or "file")[-120:]
