"""The demo's spot check: a third-party contract whose auditor is ``tn_auditor``, one staff
relative declared (近亲属备案) in a household whose case was decided, and last quarter's sample
drawn for the contract — so that the auditor's 抽查评估 list is filled when the demo starts."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from dajiuzhu.cases.models import DECIDED_STATUSES, Case, StaffRelative
from dajiuzhu.core.models import User
from dajiuzhu.registry.models import Membership
from dajiuzhu.supervision.models import SpotCheck
from dajiuzhu.supervision.sampling import contract_create, quarter_bounds, sample_draw

CONTRACT = "TP-DEMO-01"
ORGANISATION = "常州市某社会工作服务评估中心(演示)"
AUDITOR = "tn_auditor"
SEED = 20231
RELATIVE_OF = "tn_caseworker"


def _quarter(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def _decided_in(quarter: str) -> QuerySet[Case]:
    first, last = quarter_bounds(quarter)
    return Case.objects.filter(
        status__in=DECIDED_STATUSES, decided_on__gte=first, decided_on__lte=last
    )


def demo_spot_check() -> SpotCheck | None:
    """Once: the contract, a declared relative and last quarter's sample (or this quarter's
    when last quarter decided nothing). None when there is nothing decided to sample."""
    if SpotCheck.objects.exists() or not User.objects.filter(username=AUDITOR).exists():
        return None
    this = _quarter(timezone.localdate())
    quarter = _quarter(quarter_bounds(this)[0] - timedelta(days=1))
    if not _decided_in(quarter).exists():
        quarter = this
    if not _decided_in(quarter).exists():
        return None
    with transaction.atomic():
        contract_create(actor=None, code=CONTRACT, organisation=ORGANISATION, auditors=[AUDITOR])
        staff = User.objects.filter(username=RELATIVE_OF).first()
        case = _decided_in(quarter).filter(town__code__startswith="320402").order_by("-id").first()
        if staff is not None and case is not None:
            member = (
                Membership.objects.filter(household=case.household, end_date__isnull=True)
                .order_by("-pk")
                .first()
            )
            if member is not None:
                StaffRelative.objects.get_or_create(
                    staff=staff,
                    person=member.person,
                    defaults={"relation": "表兄弟姐妹", "declared_at": timezone.now()},
                )
        return sample_draw(
            actor=None, quarter=quarter, seed=SEED, contract_code=CONTRACT
        ).spot_check
