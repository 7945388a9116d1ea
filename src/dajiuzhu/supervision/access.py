"""Who may see and act on a fund finding — written once, used by the reads and the writes.

A finding goes to the district that paid (the first 6 digits of the payee's 户籍 division): it
is visible to staff whose jurisdiction contains the payee's division (the district, and its
towns for their own payees) and to city-level staff; findings about payees the 户籍 view does
not know are visible at city level only. The scope is part of the query, so an out-of-scope
finding is simply not found. Third-party auditors see spot-check samples, never findings.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from dajiuzhu.core.access import AccessDenied, NotFound, is_staff_user, require_role, scope_q
from dajiuzhu.core.models import DivisionLevel, User
from dajiuzhu.core.roles import PURPOSE_ROLES, Purpose, Role
from dajiuzhu.supervision.models import Complaint, Finding, SampledCase

READ_ROLES = frozenset({Role.SUPERVISOR, Role.CASEWORKER, Role.APPROVER, Role.ADMIN})
# The paying district's staff record the rectification.
RECTIFY_ROLES = frozenset({Role.CASEWORKER, Role.APPROVER})
EXPORT_ROLES = frozenset({Role.ADMIN})
RUN_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR})


def visible_q(user: User) -> Q:
    visible = scope_q(user, "division_code")
    if user.scope is not None and user.scope.level == DivisionLevel.CITY:
        visible |= Q(division_code="")
    return visible


def findings_visible(user: User) -> QuerySet[Finding]:
    if not is_staff_user(user):
        return Finding.objects.none()
    if user.role not in READ_ROLES:
        return Finding.objects.none()
    return Finding.objects.filter(visible_q(user))


def readable(user: User) -> QuerySet[Finding]:
    require_role(user, READ_ROLES)
    return findings_visible(user)


def access_finding_by_id(user: User, finding_id: int, *, for_update: bool = False) -> Finding:
    """The finding, fetched together with the user's scope (NotFound outside it)."""
    require_role(user, READ_ROLES)
    findings = findings_visible(user).filter(pk=finding_id)
    if for_update:
        findings = findings.select_for_update()
    finding = findings.first()
    if finding is None:
        raise NotFound
    return finding


def require_rectifier(user: User) -> None:
    if user.role not in RECTIFY_ROLES:
        raise AccessDenied("仅发放地区的经办、审批人员可以登记整改")


def reads_lake_evidence(user: User) -> bool:
    """Whether the user's role reads departments' data for the 监督 purpose (the lake rows on
    the finding's page); others see the finding's evidence summary only."""
    return is_staff_user(user) and user.role in PURPOSE_ROLES.get(Purpose.SUPERVISION, frozenset())


# --------------------------------------------------------------------------- spot checks

# Staff who see the samples of their jurisdiction (supervisors follow them, the town's
# caseworkers and approvers rectify).
SAMPLE_STAFF_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN, Role.CASEWORKER, Role.APPROVER})


def samples_visible(user: User) -> QuerySet[SampledCase]:
    """A third-party auditor sees the cases sampled for its contracts, and only those; staff
    see the samples of their jurisdiction."""
    if not is_staff_user(user):
        return SampledCase.objects.none()
    if user.role == Role.AUDITOR:
        return SampledCase.objects.filter(spot_check__contract__auditors=user)
    if user.role in SAMPLE_STAFF_ROLES:
        return SampledCase.objects.filter(scope_q(user, "division_code"))
    return SampledCase.objects.none()


def access_sample_by_id(user: User, case_id: int, *, for_update: bool = False) -> SampledCase:
    require_role(user, {*SAMPLE_STAFF_ROLES, Role.AUDITOR})
    cases = samples_visible(user).filter(pk=case_id)
    if for_update:
        cases = cases.select_for_update()
    case = cases.first()
    if case is None:
        raise NotFound
    return case


# --------------------------------------------------------------------------- complaints

# The competent district's supervisors (and the city's) handle complaints; administrators see
# the queue's content but never the reporter.
COMPLAINT_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
COMPLAINT_HANDLER_ROLES = frozenset({Role.SUPERVISOR})


def complaints_visible(user: User) -> QuerySet[Complaint]:
    if not is_staff_user(user):
        return Complaint.objects.none()
    if user.role not in COMPLAINT_ROLES:
        return Complaint.objects.none()
    return Complaint.objects.filter(scope_q(user, "division_code"))


def access_complaint_by_id(user: User, complaint_id: int, *, for_update: bool = False) -> Complaint:
    """The complaint, fetched together with the user's scope (NotFound outside it)."""
    require_role(user, COMPLAINT_ROLES)
    complaints = complaints_visible(user).filter(pk=complaint_id)
    if for_update:
        complaints = complaints.select_for_update()
    complaint = complaints.first()
    if complaint is None:
        raise NotFound
    return complaint


def require_complaint_handler(user: User, complaint: Complaint) -> None:
    """Only the supervisor who took the report acts on it (and reads the reporter)."""
    if user.role not in COMPLAINT_HANDLER_ROLES:
        raise AccessDenied("仅承办该举报的监督人员可以办理")
    if complaint.handler_id != user.pk:
        raise AccessDenied("该举报由其他监督人员承办,仅承办人可以查看举报人信息和办理")
