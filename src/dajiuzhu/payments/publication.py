"""A released roster goes into the lake as 民政's ``assistance_payments`` rows (so that
supervision verifies the platform's own payments like any department's), together with the
``assistance_recipients`` rows of its cases (start month to end month, the monthly amount), so
that the NO_APPROVAL check finds the approval behind each payment.

Publication runs after the release has committed: a lake write cannot be rolled back with the
database, so a failure leaves the roster released and unpublished (``lake_batch`` empty), and
``dajiuzhu payments publish --month M`` (or the release page) publishes it again. A payment
sent again on a supplementary roster keeps its ``payment_id``: the lake's current view keeps
the latest row per payment, with the new paid date."""

from __future__ import annotations

import calendar
import logging
from datetime import date

from django.db import transaction
from django.utils import timezone

from dajiuzhu.cases.dynamic import amount_in_month
from dajiuzhu.cases.models import AmountChange, Case
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.errors import ServiceError
from dajiuzhu.core.models import Department
from dajiuzhu.core.months import first_day
from dajiuzhu.core.roles import Purpose
from dajiuzhu.exchange import ingest
from dajiuzhu.exchange.contracts import contract_or_error
from dajiuzhu.exchange.models import Channel
from dajiuzhu.payments.models import PublishedApproval, Roster, RosterStatus
from dajiuzhu.payments.services import roster_lines
from dajiuzhu.registry.selectors import id_numbers_for_keys

log = logging.getLogger("dajiuzhu.payments")
PAYMENTS = "assistance_payments"
RECIPIENTS = "assistance_recipients"


def _end_date(month: str) -> str:
    """The last day of the last month paid — or today, while that day is still to come (the
    exchange refuses dates in the future; the period overlaps the same months)."""
    year, mon = int(month[:4]), int(month[5:7])
    last = date(year, mon, calendar.monthrange(year, mon)[1])
    return min(last, timezone.localdate()).isoformat()


def roster_rows(roster: Roster) -> tuple[list[dict], list[tuple[int, dict]]]:
    """The roster's ``assistance_payments`` rows, and (case id, ``assistance_recipients`` row)
    for its cases whose approval row is new or changed since last published (plain rows: a
    district's month is tens of thousands)."""
    lines = list(
        roster_lines(roster)
        .order_by("id")
        .values_list(
            "payment_id",
            "case_id",
            "programme",
            "month",
            "amount",
            "paid_date",
            "person__person_key",
            "household__household_no",
        )
    )
    numbers = id_numbers_for_keys(
        actor=None,
        keys=[line[6] for line in lines],
        purpose=Purpose.CASEWORK,
        reason=f"发放名册入湖(名册{roster.pk})",
    )
    payments = [
        {
            "payment_id": payment_id,
            "id_number": numbers[key],
            "program_code": programme,
            "household_no": household_no,
            "month": month,
            "amount": f"{amount:.2f}",
            "paid_date": paid.isoformat() if paid else "",
        }
        for payment_id, _case, programme, month, amount, paid, key, household_no in lines
    ]
    of_case = {line[1]: line for line in lines}
    changes: dict[int, list] = {}
    for changed, from_month, new_amount in (
        AmountChange.objects.filter(case_id__in=list(of_case))
        .order_by("case_id", "from_month")
        .values_list("case_id", "from_month", "amount")
    ):
        changes.setdefault(changed, []).append((from_month, new_amount))
    published = dict(
        PublishedApproval.objects.filter(case_id__in=list(of_case)).values_list("case_id", "row")
    )
    recipients = []
    for case_id, programme, status, amount, start, end in Case.objects.filter(
        pk__in=list(of_case)
    ).values_list("pk", "programme", "status", "amount", "start_month", "end_month"):
        line = of_case[case_id]
        monthly = amount_in_month(
            month=roster.month,
            status=status,
            amount=amount,
            start_month=start,
            end_month=end,
            changes=changes.get(case_id, []),
        )
        row = {
            "id_number": numbers[line[6]],
            "program_code": programme,
            "household_no": line[7],
            "start_date": first_day(start).isoformat(),
            "end_date": _end_date(end) if end else "",
            "monthly_amount": f"{monthly:.2f}" if monthly is not None else "",
        }
        if published.get(case_id) != _signature(row):
            recipients.append((case_id, row))
    return payments, recipients


def _signature(row: dict) -> str:
    return "|".join(
        (row["household_no"], row["start_date"], row["end_date"], row["monthly_amount"])
    )


def _ingest(dataset: str, rows: list[dict], label: str) -> int:
    contract = contract_or_error(dataset)
    department = Department.objects.get(code=contract.owner)
    result = ingest.ingest_rows(
        contract=contract,
        rows=rows,
        department=department,
        steward=None,
        submitted_by=label,
        channel=Channel.PLATFORM,
    )
    return result.batch.pk


def roster_publish(*, roster_id: int) -> Roster:
    """Publish a released roster (and its cases' recipient rows) into the lake; idempotent."""
    roster = Roster.objects.select_related("district").get(pk=roster_id)
    if roster.status != RosterStatus.RELEASED:
        raise ServiceError("payments.not_released", "名册尚未审核发放,不能入湖")
    if roster.lake_batch is not None:
        return roster
    payments, recipients = roster_rows(roster)
    label = (
        f"平台发放名册 {roster.month} {roster.district.name} {roster.programme} 第{roster.seq}批"
    )
    if recipients:
        _ingest(RECIPIENTS, [row for _, row in recipients], label)
    batch = _ingest(PAYMENTS, payments, label)
    now = timezone.now()
    with transaction.atomic():
        PublishedApproval.objects.bulk_create(
            [
                PublishedApproval(case_id=case_id, row=_signature(row), published_at=now)
                for case_id, row in recipients
            ],
            batch_size=5000,
            update_conflicts=True,
            unique_fields=["case"],
            update_fields=["row", "published_at"],
        )
        Roster.objects.filter(pk=roster.pk, lake_batch__isnull=True).update(lake_batch=batch)
        audit_record(
            actor=None,
            action="payments.roster.publish",
            object_type="roster",
            object_id=roster.pk,
            purpose=Purpose.CASEWORK,
            label="platform",
            detail={"batch": batch, "rows": len(payments), "approvals": len(recipients)},
        )
    roster.lake_batch = batch
    log.info("payments.roster.published", extra={"roster": roster.pk, "batch": batch})
    return roster


def publish_pending(*, month: str | None = None) -> list[int]:
    """Publish every released roster not yet in the lake (of a month, or all)."""
    rosters = Roster.objects.filter(status=RosterStatus.RELEASED, lake_batch__isnull=True)
    if month:
        rosters = rosters.filter(month=month)
    return [roster_publish(roster_id=r.pk).pk for r in rosters.order_by("id")]
