"""Who may see and act on rosters and payments — written once. Staff of a district (or the
city) see the district's rosters; a roster is prepared by a caseworker and released by an
approver whose scope covers the district (a town's staff do not pay). A resident sees the
payments of their own applications. Out of scope is *not found*."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from dajiuzhu.core.access import AccessDenied, NotFound, is_staff_user, scope_q
from dajiuzhu.core.models import DivisionLevel, User
from dajiuzhu.core.roles import Role
from dajiuzhu.payments.models import Payment, Roster

READ_ROLES = frozenset({Role.CASEWORKER, Role.APPROVER, Role.SUPERVISOR, Role.ADMIN})
PREPARE_ROLES = frozenset({Role.CASEWORKER})
RELEASE_ROLES = frozenset({Role.APPROVER})
# The bank file holds full ID numbers: the roles that see them (core.roles.FULL_ID_ROLES).
EXPORT_ROLES = frozenset({Role.CASEWORKER, Role.APPROVER})


def rosters_visible(user: User) -> QuerySet[Roster]:
    if is_staff_user(user) and user.role in READ_ROLES:
        return Roster.objects.filter(scope_q(user, "district__code"))
    return Roster.objects.none()


def payments_visible(user: User) -> QuerySet[Payment]:
    if is_staff_user(user) and user.role in READ_ROLES:
        return Payment.objects.filter(scope_q(user, "roster__district__code"))
    if user.is_authenticated and user.is_active and user.role == Role.RESIDENT:
        mine = Q(case__application__submitted_by=user)
        if user.phone_index:
            mine |= Q(person__phone_index=user.phone_index)
        return Payment.objects.filter(mine)
    return Payment.objects.none()


def access_roster_by_id(user: User, roster_id: int, *, for_update: bool = False) -> Roster:
    rosters = rosters_visible(user).filter(pk=roster_id)
    if for_update:
        rosters = rosters.select_for_update()
    roster = rosters.select_related("district").first()
    if roster is None:
        raise NotFound
    return roster


def require_district_staff(user: User, roles: frozenset[str]) -> None:
    """Staff in one of ``roles`` whose scope is a district or the city (a town does not pay)."""
    if not is_staff_user(user):
        raise AccessDenied
    if user.role not in roles:
        raise AccessDenied
    if user.scope is None or user.scope.level not in (DivisionLevel.DISTRICT, DivisionLevel.CITY):
        raise AccessDenied("发放名册由区(市)民政部门编制和审核")
