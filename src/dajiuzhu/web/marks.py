"""Marks on page views: which kind of personal record a page shows.

tests/core/test_scoping.py walks the URL configuration and fails for any page that carries no
mark, and for every marked page proves that a user outside the record's scope gets 403/404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)


def shows_personal_data(kind: str) -> Callable[[F], F]:
    def mark(view: F) -> F:
        view.personal_data = kind  # type: ignore[attr-defined]
        return view

    return mark


def no_personal_data(view: F) -> F:
    view.personal_data = "none"  # type: ignore[attr-defined]
    return view
