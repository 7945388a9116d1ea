"""Access control in one place. Every selector calls these; each condition is on its own line.

Out-of-scope records are reported as *not found* (HTTP 404), never as forbidden, so that a user
cannot probe which records exist outside their jurisdiction. A role that may not do something at
all gets *forbidden* (HTTP 403).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from dajiuzhu.core.errors import AccessDenied as AccessDenied
from dajiuzhu.core.errors import NotFound as NotFound
from dajiuzhu.core.models import CITY_CODE, User
from dajiuzhu.core.roles import FULL_ID_ROLES, FULL_PHONE_ROLES, PURPOSE_ROLES, Purpose, Role


def is_staff_user(user: User | AnonymousUser) -> bool:
    if not user.is_authenticated:
        return False
    if not user.is_active:
        return False
    if not user.is_platform_staff:
        return False
    if user.role != Role.ADMIN:
        return True
    # Administrators exist only at city level (decision 0006); the database refuses any other
    # administrator, and a row that escaped the constraint (restored from an old backup, say)
    # is no staff member at all: no role, no scope.
    return user.scope_id == CITY_CODE


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
    if user.role != Role.RESIDENT and not is_staff_user(user):
        raise AccessDenied  # an administrator below city level has no role at all


def require_admin(user: User) -> None:
    if not is_admin(user):
        raise AccessDenied("仅市级系统管理员可以进行此操作")


def role_needs_purpose(user: User, purpose: str) -> bool:
    """Whether the user's role reads shared data for this purpose (core.roles.PURPOSE_ROLES)."""
    if not is_staff_user(user):
        return False
    return user.role in PURPOSE_ROLES.get(purpose, frozenset())


def require_purpose(purpose: str) -> str:
    if purpose not in Purpose.values:
        raise AccessDenied
    return purpose


def sees_full_id(user: User) -> bool:
    return is_staff_user(user) and user.role in FULL_ID_ROLES


def sees_full_phone(user: User) -> bool:
    return is_staff_user(user) and user.role in FULL_PHONE_ROLES


def is_city_wide(user: User) -> bool:
    """Whether a staff user's scope is the whole city (department deliveries, their batches and
    quarantine are city-wide: only city-level stewards act on them)."""
    return is_staff_user(user) and user.scope_id == CITY_CODE


def is_admin(user: User) -> bool:
    """A city-level administrator (decision 0006): role admin *and* the city's scope."""
    if not is_staff_user(user):
        return False
    if user.role != Role.ADMIN:
        return False
    return user.scope_id == CITY_CODE
