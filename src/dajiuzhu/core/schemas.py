from __future__ import annotations

from ninja import Schema


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None


class ValidationErrorOut(Schema):
    code: str
    message: str
    errors: list[dict]
