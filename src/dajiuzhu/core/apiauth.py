"""Authentication for the HTTP API: a staff session (with CSRF) or a department token."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from dajiuzhu.core.models import ApiToken, User
from dajiuzhu.core.services import api_token_authenticate


class StaffSession(SessionAuth):
    """A logged-in user's session; unsafe methods need the CSRF token as in any Django form.

    The CSRF check only concerns a request that carries a session: a request with no logged-in
    user (no cookie, an expired session, a bearer token that matched nothing) is
    unauthenticated (401), not a CSRF failure (403)."""

    def __call__(self, request: HttpRequest) -> User | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        return super().__call__(request)  # CSRF check, then the session's user

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = super().authenticate(request, key)
        return user if user is not None and user.is_active else None


class DepartmentToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return api_token_authenticate(token)


session_auth = StaffSession()
token_auth = DepartmentToken()
