"""Request types for type checking: behind ``staff_page``, ``portal_page`` or
``login_required`` the user is logged in, so ``request.user`` is a ``User`` (django-stubs'
recommended pattern); an API operation's ``request.auth`` is what its auth class returned."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from dajiuzhu.core.access import AccessDenied
from dajiuzhu.core.models import User


class AuthedRequest(HttpRequest):
    user: User  # type: ignore[assignment]  # narrowed: the decorators let only logged-in users in


class ApiRequest(HttpRequest):
    """A request to an API operation: ``auth`` is what the operation's auth class returned (a
    ``User``, a department's ``ApiToken``, a device …)."""

    auth: Any


def api_user(request: ApiRequest) -> User:
    """The logged-in user of an API operation; a token or nobody is refused (403)."""
    if not isinstance(request.auth, User):
        raise AccessDenied
    return request.auth
