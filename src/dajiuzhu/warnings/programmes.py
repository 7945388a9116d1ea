"""The programme catalogue's codes and names (read from :mod:`dajiuzhu.policy.catalogue`, the
one source of programmes), for the outcome "helped to apply (which programme)" and for showing
current assistance."""

from __future__ import annotations


def programmes() -> dict[str, str]:
    from dajiuzhu.policy.catalogue import names  # its models import pydantic: not at start-up

    return names()


def programme_label(code: str) -> str:
    return programmes().get(code, code)
