"""Who may see and act on an application and its cases — written once, used by reads and
writes. Staff see the cases of their jurisdiction's towns (the competent town, the applicant's
户籍 town) and those their window accepted (全城办: both windows see it). A resident sees the
applications where they are the applicant or the submitter. Out of scope is *not found*."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from dajiuzhu.cases.models import Application, Case
from dajiuzhu.core.access import AccessDenied, NotFound, division_in_scope, is_staff_user, scope_q
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Role

READ_ROLES = frozenset(
    {
        Role.WINDOW_CLERK,
        Role.CASEWORKER,
        Role.APPROVER,
        Role.GRID_WORKER,
        Role.SUPERVISOR,
        Role.AUDITOR,
        Role.ADMIN,
    }
)
# Who takes an application at a window (any window of the city) or from a warning.
INTAKE_ROLES = frozenset({Role.WINDOW_CLERK, Role.CASEWORKER})
INVESTIGATE_ROLES = frozenset({Role.GRID_WORKER, Role.CASEWORKER})
REVIEW_ROLES = frozenset({Role.CASEWORKER})
DECIDE_ROLES = frozenset({Role.APPROVER})
EXTEND_ROLES = frozenset({Role.CASEWORKER, Role.APPROVER})
EXPORT_ROLES = frozenset({Role.ADMIN})

RECUSED = "您已备案为申请家庭成员的近亲属,依规回避,不能办理此案件"


def _staff_q(user: User, prefix: str = "") -> Q:
    return scope_q(user, f"{prefix}town__code") | scope_q(user, f"{prefix}accepted_division__code")


def applications_visible(user: User) -> QuerySet[Application]:
    if is_staff_user(user) and user.role in READ_ROLES:
        return Application.objects.filter(_staff_q(user))
    if user.is_authenticated and user.is_active and user.role == Role.RESIDENT:
        mine = Q(submitted_by=user)
        if user.phone_index:
            mine |= Q(applicant__phone_index=user.phone_index)
        return Application.objects.filter(mine)
    return Application.objects.none()


def cases_visible(user: User) -> QuerySet[Case]:
    if is_staff_user(user) and user.role in READ_ROLES:
        return Case.objects.filter(
            scope_q(user, "town__code") | scope_q(user, "application__accepted_division__code")
        )
    if user.is_authenticated and user.is_active and user.role == Role.RESIDENT:
        return Case.objects.filter(application__in=applications_visible(user))
    return Case.objects.none()


def access_application_by_no(user: User, application_no: str) -> Application:
    app = (
        applications_visible(user)
        .select_related("applicant", "household", "town", "accepted_division")
        .filter(application_no=application_no)
        .first()
    )
    if app is None:
        raise NotFound
    return app


def access_case_by_id(user: User, case_id: int, *, for_update: bool = False) -> Case:
    cases = cases_visible(user).filter(pk=case_id)
    if for_update:
        cases = cases.select_for_update()
    case = cases.first()
    if case is None:
        raise NotFound
    return case


def require_handler(user: User, case: Case, roles: frozenset[str]) -> None:
    """Staff of the competent town's jurisdiction in one of ``roles``, and not recused."""
    if not is_staff_user(user) or user.role not in roles:
        raise AccessDenied
    if not division_in_scope(user, case.town_id):
        raise AccessDenied("该案件由申请人户籍地镇(街道)办理,受理窗口只能查看")
    if user.pk in (case.related_staff or []):
        raise AccessDenied(RECUSED)
