"""A form's POST on a staff page, the same everywhere: the caller has checked the object's
scope (out of scope is not found); the service writes; a refusal becomes the page's error
message and success the given one; the user goes back to the page."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse

from dajiuzhu.core.errors import UserError


def post_action(
    request: HttpRequest,
    write: Callable[[], object],
    *,
    done: str,
    back: Callable[[], HttpResponse],
    refusals: tuple[type[UserError], ...],
) -> HttpResponse:
    try:
        write()
    except refusals as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return back()
