"""Who may see and act on a warning — written once, used by the reads and the writes.

A warning is visible to staff whose jurisdiction contains the person's 户籍 division (a town
sees its own, a district all of its towns), and to the worker it is assigned to. Warnings the
lake could not route (the person has no 户籍 record) are visible to city-level staff only. The
scope is part of the query (the warning is fetched together with the scope that owns it), so an
out-of-scope warning is simply not found.

Which roles may read warnings at all (:data:`READ_ROLES`), dispatch them
(:data:`ASSIGNER_ROLES`) or be sent to visit (:data:`ASSIGNEE_ROLES`) is decided here too; the
reads and each write apply the role they need.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from dajiuzhu.core.access import NotFound, is_staff_user, scope_q
from dajiuzhu.core.models import DivisionLevel, User
from dajiuzhu.core.roles import Role
from dajiuzhu.warnings.models import Warning

READ_ROLES = frozenset(
    {
        Role.WINDOW_CLERK,
        Role.CASEWORKER,
        Role.APPROVER,
        Role.GRID_WORKER,
        Role.SUPERVISOR,
        Role.ADMIN,
    }
)
# (Third-party auditors see only the cases sampled for their contract: supervision.access.)
# Town and district staff who dispatch warnings (and may record an outcome themselves).
ASSIGNER_ROLES = frozenset({Role.WINDOW_CLERK, Role.CASEWORKER, Role.APPROVER, Role.ADMIN})
# Who can be sent to visit: grid workers and community workers (clerks, caseworkers) of the town.
ASSIGNEE_ROLES = frozenset({Role.GRID_WORKER, Role.WINDOW_CLERK, Role.CASEWORKER})


def visible_q(user: User) -> Q:
    """The warnings in the user's jurisdiction, those assigned to them, and — for city-level
    staff — those that could not be routed."""
    visible = scope_q(user, "division_code") | Q(assignee=user)
    if user.scope is not None and user.scope.level == DivisionLevel.CITY:
        visible |= Q(division_code="")
    return visible


def warnings_visible(user: User) -> QuerySet[Warning]:
    if not is_staff_user(user):  # (an administrator row below city level is no one)
        return Warning.objects.none()
    return Warning.objects.filter(visible_q(user))


def access_warning_by_id(user: User, warning_id: int, *, for_update: bool = False) -> Warning:
    """The warning, fetched together with the user's scope (NotFound outside it). With
    ``for_update`` the row is locked for the rest of the transaction (nothing else is joined,
    so only the warning's row is locked); otherwise its town and assignee come along."""
    warnings = warnings_visible(user).filter(pk=warning_id)
    if for_update:
        warnings = warnings.select_for_update()
    else:
        warnings = warnings.select_related("town", "assignee")
    warning = warnings.first()
    if warning is None:
        raise NotFound
    return warning


def can_be_assignee(user: User, w: Warning) -> bool:
    """A grid or community worker whose jurisdiction lies within the warning's town."""
    if not user.is_active or user.role not in ASSIGNEE_ROLES or not user.scope_id:
        return False
    town = w.town_id or (w.division_code[:9] if w.division_code else "")
    return bool(town) and user.scope_id.startswith(town)
