"""Reads of the payments domain, always scoped to the acting user."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet, Sum

from dajiuzhu.core.access import AccessDenied, is_staff_user
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Purpose
from dajiuzhu.payments.access import (
    READ_ROLES,
    access_roster_by_id,
    payments_visible,
    rosters_visible,
)
from dajiuzhu.payments.models import Payment, PaymentStatus, Roster
from dajiuzhu.payments.services import roster_lines


def _require_reader(user: User) -> None:
    if not is_staff_user(user) or user.role not in READ_ROLES:
        raise AccessDenied


def latest_roster_month(*, user: User) -> str | None:
    _require_reader(user)
    return rosters_visible(user).order_by("-month").values_list("month", flat=True).first()


def roster_list(*, user: User, month: str | None = None) -> QuerySet[Roster]:
    _require_reader(user)
    qs = rosters_visible(user).select_related("district", "prepared_by", "released_by")
    if month:
        qs = qs.filter(month=month)
    return qs.order_by("-month", "district_id", "programme", "seq")


@dataclass
class RosterDetail:
    roster: Roster
    lines: QuerySet[Payment]
    by_status: dict[str, dict]


def roster_get(*, user: User, roster_id: int) -> RosterDetail:
    roster = access_roster_by_id(user, roster_id)
    lines = (
        roster_lines(roster)
        .select_related("person", "household", "case__town")
        .order_by("case__town_id", "id")
    )
    by_status = {
        row["status"]: {"count": row["n"], "amount": row["total"]}
        for row in lines.order_by().values("status").annotate(n=Count("id"), total=Sum("amount"))
    }
    audit_record(
        actor=user,
        action="payments.roster.view",
        object_type="roster",
        object_id=roster.pk,
        purpose=Purpose.CASEWORK,
        detail={"lines": roster.lines},
    )
    return RosterDetail(roster=roster, lines=lines, by_status=by_status)


def returned_payments(*, user: User) -> QuerySet[Payment]:
    return (
        payments_visible(user)
        .filter(status=PaymentStatus.RETURNED)
        .select_related("person", "roster__district", "case__town")
        .order_by("-returned_on", "id")
    )


def my_payments(*, user: User) -> QuerySet[Payment]:
    """A resident's payments (their own applications), newest month first; a payment still on
    a roster being prepared is not shown."""
    return (
        payments_visible(user)
        .exclude(status=PaymentStatus.PENDING)
        .select_related("case")
        .order_by("-month", "programme")
    )
