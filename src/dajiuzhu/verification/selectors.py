"""Reads of the household check: reports and authorisations, scoped and audited."""

from __future__ import annotations

from dajiuzhu.core.access import NotFound, require_purpose, require_role, scope_q
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import REGISTRY_READ_ROLES
from dajiuzhu.registry.models import Household, Person
from dajiuzhu.registry.selectors import display_id_number
from dajiuzhu.verification.models import Authorisation, VerificationReport

RELATIONS = {
    "head": "户主",
    "spouse": "配偶",
    "child": "子女",
    "parent": "父母",
    "grandchild": "孙子女",
    "sibling": "兄弟姐妹",
    "other": "其他",
}


def report_get(*, user: User, report_id: int, purpose: str) -> VerificationReport:
    require_role(user, REGISTRY_READ_ROLES)
    require_purpose(purpose)
    report = (
        VerificationReport.objects.select_related("household")
        .filter(scope_q(user, "household__division__code"), pk=report_id)
        .first()
    )
    if report is None:
        raise NotFound
    audit_record(
        actor=user,
        action="verification.report.view",
        object_type="household",
        object_id=report.household_id,
        purpose=purpose,
        detail={"report": report.pk},
    )
    return report


def member_labels(*, user: User, report: VerificationReport) -> dict[int, dict]:
    """Names and (masked per role) ID numbers of the members a report is about."""
    ids = [m["person_id"] for m in report.report["members"]]
    return {
        p.pk: {"name": p.name, "id_number": display_id_number(user, p)}
        for p in Person.objects.filter(pk__in=ids)
    }


def authorisations_for(*, user: User, household: Household) -> list[Authorisation]:
    return list(
        Authorisation.objects.filter(
            scope_q(user, "household__division__code"), household=household
        ).select_related("person")
    )


def reports_for(*, user: User, household: Household, limit: int = 20) -> list[VerificationReport]:
    return list(
        VerificationReport.objects.filter(
            scope_q(user, "household__division__code"), household=household
        )[:limit]
    )
