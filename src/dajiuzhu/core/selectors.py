"""Reads of the core domain."""

from __future__ import annotations

from django.db.models import QuerySet

from dajiuzhu.core.access import require_role
from dajiuzhu.core.models import ApiToken, Department, Division, User
from dajiuzhu.core.roles import Role


def division_list(
    *, parent_code: str | None = None, level: str | None = None
) -> QuerySet[Division]:
    """Divisions are public reference data (names and codes of places)."""
    qs = Division.objects.all()
    if parent_code:
        qs = qs.filter(parent_id=parent_code)
    if level:
        qs = qs.filter(level=level)
    return qs.order_by("code")


def department_list() -> QuerySet[Department]:
    return Department.objects.order_by("code")


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    require_role(user, {Role.ADMIN})
    return ApiToken.objects.select_related("department").order_by("-created_at")
