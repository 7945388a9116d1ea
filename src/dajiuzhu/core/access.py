"""Access control in one place. Every selector calls these; each condition is on its own line.

Out-of-scope records are reported as *not found* (HTTP 404), never as forbidden, so that a user
cannot probe which records exist outside their jurisdiction. A role that may not do something at
all gets *forbidden* (HTTP 403).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from dajiuzhu.core.models import User
from dajiuzhu.core.roles import FULL_ID_ROLES, FULL_PHONE_ROLES, Purpose, Role


class AccessDenied(Exception):
    """The role may not perform this action at all (HTTP 403)."""

    code = "forbidden"
    message = "您的角色无权进行此操作"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message


class NotFound(Exception):
    """No such record in the user's scope (HTTP 404)."""

    code = "not_found"
    message = "未找到该记录,或该记录不在您的管辖范围内"


def is_staff_user(user: User) -> bool:
    if not user.is_authenticated:
        return False
    if not user.is_active:
        return False
    return user.is_platform_staff


def division_in_scope(user: User, code: str | None) -> bool:
    if not code:
        return False
    if not is_staff_user(user):
        return False
    prefix = user.scope_prefix
    if not prefix:
        return False
    return code.startswith(prefix)


def scope_q(user: User, field: str) -> Q:
    """A filter keeping rows whose division code (``field``) lies in the user's scope."""
    if not is_staff_user(user) or not user.scope_prefix:
        return Q(pk__in=[])
    return Q(**{f"{field}__startswith": user.scope_prefix})


def require_role(user: User, roles: Iterable[str]) -> None:
    if not user.is_authenticated:
        raise AccessDenied
    if not user.is_active:
        raise AccessDenied
    if user.role not in set(roles):
        raise AccessDenied


def require_purpose(purpose: str) -> str:
    if purpose not in Purpose.values:
        raise AccessDenied
    return purpose


def sees_full_id(user: User) -> bool:
    return user.is_authenticated and user.role in FULL_ID_ROLES


def sees_full_phone(user: User) -> bool:
    return user.is_authenticated and user.role in FULL_PHONE_ROLES


def is_admin(user: User) -> bool:
    return is_staff_user(user) and user.role == Role.ADMIN
