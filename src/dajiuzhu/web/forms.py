"""Small helpers for reading page forms."""

from __future__ import annotations

import re

from django.http import HttpRequest

_ID = re.compile(r"[0-9]{1,18}")


def posted_id(request: HttpRequest, name: str) -> int | None:
    """A record id from a form field; None when missing or not a positive id (a form action
    with such an id answers "not found" with a message, never a 500)."""
    raw = (request.POST.get(name) or "").strip()
    if not _ID.fullmatch(raw):
        return None
    value = int(raw)
    return value or None
