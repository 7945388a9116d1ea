"""An approved case as history: the application and the case the statutory workflow would have
left behind, written directly — for the demo's paid and reviewed households and for the tests of
what follows a decision (payments, reviews). The workflow itself goes through the cases
services (``demo.cases``, ``tests/cases``); nothing here is a service."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from dajiuzhu.cases.models import Application, Case, CaseStatus, Channel
from dajiuzhu.core.months import first_day
from dajiuzhu.policy import catalogue
from dajiuzhu.registry.models import Household, Person


def approved_case_write(
    *,
    household: Household,
    applicant: Person,
    town: str,
    programme: str,
    amount: str | Decimal | None,
    start_month: str,
    application_no: str,
    submitted_at: datetime,
    decided_on: date | None = None,
) -> Case:
    """An approved case of ``programme`` paid from ``start_month``, decided (by default) 12
    days before that month began, accepted 30 days before the decision."""
    spec = catalogue.programme(programme)
    decided = decided_on or first_day(start_month) - timedelta(days=12)
    app = Application.objects.create(
        application_no=application_no,
        household=household,
        applicant=applicant,
        channel=Channel.WINDOW,
        accepted_division_id=town,
        town_id=town,
        commitment_signed=True,
        submitted_at=submitted_at,
    )
    value = Decimal(amount) if amount is not None else None
    return Case.objects.create(
        application=app,
        household=household,
        programme=programme,
        department_id=spec.intake.decided_by.department,
        decision_level=spec.intake.decided_by.level,
        workflow=spec.intake.workflow,
        town_id=town,
        status=CaseStatus.APPROVED,
        accepted_on=decided - timedelta(days=30),
        due_on=decided + timedelta(days=10),
        proposed_amount=value,
        amount=value,
        start_month=start_month,
        decided_on=decided,
        decision_reasons="经审核,符合救助条件",
    )
