"""Approved cases for tests of what follows a decision (payments, reviews): written directly,
as the statutory workflow would have left them (tests/cases walks that workflow itself)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal

_seq = itertools.count(1)


def make_approved_case(
    town: str = "320402001",
    *,
    programme: str = "dibao",
    amount: str | Decimal | None = "1200.00",
    start_month: str = "2024-01",
    household=None,
    people=None,
    members: int = 2,
):
    """An approved case of a household of ``town`` (a new one unless given), paid from
    ``start_month``; returns the case (``case.application.applicant`` is the payee)."""
    from dajiuzhu.demo.history import approved_case_write
    from tests.factories.registry import make_household

    if household is None:
        household, people = make_household(town, members=members)
    n = next(_seq)
    return approved_case_write(
        household=household,
        applicant=people[0],
        town=town,
        programme=programme,
        amount=amount,
        start_month=start_month,
        application_no=f"T{n:09d}",
        submitted_at=datetime(2023, 11, 1, 2, 0, tzinfo=UTC),
        decided_on=date(2023, 12, 10),
    )
