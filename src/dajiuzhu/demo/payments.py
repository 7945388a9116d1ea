"""Demo payments: approved 天宁区 and 武进区 cases paid since two months ago, so that a newcomer
finds released rosters with their bank files, a payment the bank returned and sent again on a
supplementary roster, this month's roster waiting for the approver, and the demo resident's
payments on the phone.

The cases are history (approved before the demo's first roster): they are written directly, as
the statutory workflow (demonstrated by ``demo.cases``) would have left them. Every roster,
release, return and re-payment goes through the payments services as the demo accounts would
make them, and the released rosters are published into the lake for the fund checks."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from dajiuzhu.cases.models import Application, Case, CaseStatus
from dajiuzhu.core.models import User
from dajiuzhu.core.months import add_months, month_of
from dajiuzhu.demo.history import approved_case_write
from dajiuzhu.payments.models import Payment, Roster
from dajiuzhu.payments.publication import publish_pending
from dajiuzhu.payments.services import (
    payment_repay_request,
    returns_import,
    roster_build,
    roster_release,
)
from dajiuzhu.registry.models import Household, Membership, Person

log = logging.getLogger("dajiuzhu.demo")
AMOUNTS = ("535.00", "820.00", "1070.00", "1284.00", "1605.00", "2140.00")
PER_DISTRICT = 40


def _asset_holders() -> set[int]:
    """Persons (person_key) the fund checks would flag on sight: a car or truck held, a role
    in an active business, or more than one residential property. A demo whose paid
    households mostly own cars would make every payment a finding."""
    from dajiuzhu.analytics import open_lake
    from dajiuzhu.supervision.checks import business, vehicle

    out: set[int] = set()
    with open_lake("duckdb", threads=1, memory_limit="256MB") as lake:
        v = lake.table("vehicles")
        b = lake.table("businesses")
        r = lake.table("real_estate")
        homes = r.filter(r.usage == "residential", r.status == "held")
        for expr in (
            v.filter(v.vehicle_type.isin(vehicle.VEHICLE_TYPES), v.status == "held").select(
                "person_key"
            ),
            b.filter(b.role.isin(business.ROLES), b.status == "active").select("person_key"),
            homes.group_by("person_key")
            .aggregate(n=homes.property_id.nunique())
            .filter(lambda t: t.n > 1)
            .select("person_key"),
        ):
            out |= {row["person_key"] for row in lake.to_rows(expr)}
    return out


def _payees(district: str, limit: int) -> list[tuple[Household, Person]]:
    """Households from the end of the district's list (the other demos take the first ones),
    none with an application of the cases demo; households whose members hold what the fund
    checks look for come last (a few are paid all the same, so that the checks find them)."""
    taken = Application.objects.values("household_id")
    holders = _asset_holders()
    clean: list[tuple[Household, Person]] = []
    flagged: list[tuple[Household, Person]] = []
    for household in (
        Household.objects.filter(division__code__startswith=district)
        .exclude(pk__in=taken)
        .order_by("-household_no")[: limit * 6]
    ):
        members = [
            m.person
            for m in Membership.objects.filter(household=household, end_date__isnull=True)
            .select_related("person")
            .order_by("start_date", "pk")
        ]
        if not members or any(p.status != "normal" for p in members):
            continue
        pick = (household, members[0])
        (flagged if any(p.person_key in holders for p in members) else clean).append(pick)
        if len(clean) == limit:
            break
    few = max(1, limit // 10)  # about one in ten paid households gives the checks a finding
    return (clean[: limit - few] + flagged[:few] + clean[limit - few :])[:limit]


def _approved(household: Household, person: Person, programme: str, amount: str, start: str):
    division = household.division if household.division.level == "community" else None
    town = (division or person.hukou_division).parent_id or household.division_id
    return approved_case_write(
        household=household,
        applicant=person,
        town=town,
        programme=programme,
        amount=amount,
        start_month=start,
        application_no=f"D{household.pk:08d}{programme[:3].upper()}",
        submitted_at=timezone.now() - timedelta(days=75),
    )


def demo_payments() -> int:
    """Create the demo's paid cases and rosters once. Returns how many payments exist."""
    if Roster.objects.exists():
        return 0
    users = {u.username: u for u in User.objects.filter(username__in=_NEEDED)}
    if len(users) < len(_NEEDED):
        return 0
    from dajiuzhu.core import crypto
    from dajiuzhu.demo.accounts import DEMO_RESIDENT_PHONE

    this = month_of(timezone.localdate())
    first, second = add_months(this, -2), add_months(this, -1)
    with transaction.atomic():
        for district in ("320402", "320412"):
            for n, (household, person) in enumerate(_payees(district, PER_DISTRICT)):
                programme = "tekun" if n % 8 == 7 else "dibao"
                _approved(household, person, programme, AMOUNTS[n % len(AMOUNTS)], first)
        resident = Person.objects.filter(
            phone_index=crypto.phone_index(DEMO_RESIDENT_PHONE)
        ).first()
        membership = (
            Membership.objects.filter(person=resident, end_date__isnull=True).first()
            if resident
            else None
        )
        if resident is not None and membership is not None:
            # the demo resident's household receives the 困难残疾人生活补贴 (their 低保
            # application is still being handled: see demo.cases)
            _approved(membership.household, resident, "kunnan_canji", "90.00", first)
        paid_from_first = Case.objects.filter(status=CaseStatus.APPROVED, start_month=first)
        if not paid_from_first.exists():
            return 0  # a demo without a population (``--persons 0``) has nobody to pay
        for prefix in ("tn", "wj"):
            cw, ap = users[f"{prefix}_caseworker"], users[f"{prefix}_approver"]
            if not paid_from_first.filter(town__code__startswith=cw.scope_id).exists():
                continue
            for month in (first, second):
                roster_build(actor=cw, month=month, district=cw.scope_id)
                for roster in Roster.objects.filter(month=month, district_id=cw.scope_id):
                    roster_release(actor=ap, roster_id=roster.pk)
        # the bank returns two of last month's 天宁区 payments (the resident's among them); one
        # account is put right and the payment sent again on a supplementary roster
        last_month = Payment.objects.filter(month=second, roster__district_id="320402")
        returned = list(last_month.filter(programme="kunnan_canji")[:1])
        returned += list(last_month.filter(programme="dibao").order_by("id")[: 2 - len(returned)])
        reasons = ("社保卡已挂失", "账户已销户")
        rows = [
            {"payment_id": p.payment_id, "reason": reasons[i], "row": i + 2}
            for i, p in enumerate(returned)
        ]
        if rows:
            returns_import(
                actor=users["tn_caseworker"],
                rows=rows,
                name="银行退回-演示.csv",
                digest=f"demo-{second}",
            )
            payment_repay_request(actor=users["tn_caseworker"], payment_id=returned[0].payment_id)
            roster_build(actor=users["tn_caseworker"], month=second, district="320402")
            for roster in Roster.objects.filter(month=second, status="prepared"):
                roster_release(actor=users["tn_approver"], roster_id=roster.pk)
        # this month's rosters: prepared, waiting for the approvers
        for prefix in ("tn", "wj"):
            cw = users[f"{prefix}_caseworker"]
            if paid_from_first.filter(town__code__startswith=cw.scope_id).exists():
                roster_build(actor=cw, month=this, district=cw.scope_id)
    publish_pending()
    return Payment.objects.count()


_NEEDED = ("tn_caseworker", "tn_approver", "wj_caseworker", "wj_approver")
