"""The programme catalogue's codes and names (read from :mod:`dajiuzhu.policy.catalogue`, the
one source of programmes), for the outcome "helped to apply (which programme)" and for showing
current assistance."""

from __future__ import annotations

from dajiuzhu.policy.catalogue import names


def programmes() -> dict[str, str]:
    return names()


def programme_label(code: str) -> str:
    return names().get(code, code)
