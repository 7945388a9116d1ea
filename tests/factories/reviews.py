"""Approved monthly cases to review, written straight to the database (the case workflow has
its own tests): an application and an approved case from ``start_month``."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from dajiuzhu.cases.models import Application, Case, CaseStatus, Channel
from dajiuzhu.core.models import Department, Division
from dajiuzhu.registry.models import Household, Membership


def approved_case(
    household: Household,
    *,
    programme: str = "dibao",
    amount: str = "500.00",
    start_month: str = "2025-06",
    n: int = 1,
) -> Case:
    # the head applies: membership rows are written in the order the lake returns them, which
    # is not fixed, so "the first member" would make the applicant differ from run to run
    members = sorted(
        Membership.objects.filter(household=household, end_date__isnull=True).select_related(
            "person"
        ),
        key=lambda m: (m.relation != "head", m.pk),
    )
    town = Division.objects.get(code=household.division_id[:9])
    app = Application.objects.create(
        application_no=f"RV{household.pk:06d}{n:04d}",
        household=household,
        applicant=members[0].person,
        channel=Channel.WINDOW,
        accepted_division=town,
        town=town,
        submitted_at=timezone.now() - timedelta(days=400),
    )
    return Case.objects.create(
        application=app,
        household=household,
        programme=programme,
        department=Department.objects.get(code="minzheng"),
        decision_level="district",
        workflow="statutory",
        town=town,
        status=CaseStatus.APPROVED,
        accepted_on=date(2025, 4, 1),
        due_on=date(2025, 5, 15),
        proposed_amount=Decimal(amount),
        amount=Decimal(amount),
        start_month=start_month,
        decided_on=date(2025, 5, 10),
        decision_reasons="符合条件",
    )


def authorise(household: Household) -> None:
    from dajiuzhu.verification.services import authorisation_record

    today = timezone.localdate()
    for m in Membership.objects.filter(household=household, end_date__isnull=True):
        authorisation_record(
            actor=None,
            person_id=m.person_id,
            signed_on=today,
            expires_on=today + timedelta(days=365),
            document_ref="review-test",
        )
