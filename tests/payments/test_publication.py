"""A released roster goes into the lake as 民政's assistance_payments (and the approvals behind
them as assistance_recipients), so that the fund checks verify the platform's own payments:
the NO_APPROVAL check finds nothing for a roster of approved cases, and finds a payment whose
approval is missing."""

from __future__ import annotations

from dajiuzhu.cases import dynamic
from dajiuzhu.core.models import AuditEvent
from dajiuzhu.exchange import lake
from dajiuzhu.exchange.models import Batch
from dajiuzhu.payments.models import Roster
from dajiuzhu.payments.publication import publish_pending, roster_publish
from dajiuzhu.payments.services import roster_build, roster_release
from dajiuzhu.supervision.models import Finding
from dajiuzhu.supervision.running import check_run
from tests.factories.accounts import client_for
from tests.factories.cases import make_approved_case

TN = "320402001"


def _rows(dataset: str) -> list[dict]:
    con = lake.connect()
    try:
        rel = con.sql(f"SELECT * FROM {lake.current_sql(dataset)}")
        return [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]
    finally:
        con.close()


def test_releasing_publishes_payments_and_approvals_into_the_lake(preparer, approver):
    cases = [make_approved_case(TN, amount=a, start_month="2024-01") for a in ("1350.00", "700")]
    roster_build(actor=preparer, month="2024-01")
    roster = Roster.objects.get()
    r = client_for(approver).post(f"/api/v1/payments/rosters/{roster.pk}/release")
    assert r.status_code == 200
    roster.refresh_from_db()
    assert roster.lake_batch is not None
    batch = Batch.objects.get(pk=roster.lake_batch)
    assert (batch.dataset, batch.department_id, batch.accepted, batch.rejected) == (
        "assistance_payments",
        "minzheng",
        2,
        0,
    )
    payments = sorted(_rows("assistance_payments"), key=lambda x: x["payment_id"])
    assert [(p["payment_id"], str(p["amount"]), p["month"]) for p in payments] == [
        (f"DJZ202401{cases[0].pk:09d}", "1350.00", "2024-01"),
        (f"DJZ202401{cases[1].pk:09d}", "700.00", "2024-01"),
    ]
    assert all("id_number" not in p for p in payments)  # pseudonymised: person_key only
    recipients = _rows("assistance_recipients")
    assert {(x["program_code"], str(x["start_date"])) for x in recipients} == {
        ("dibao", "2024-01-01")
    }
    assert len(recipients) == 2
    assert AuditEvent.objects.filter(action="payments.roster.publish").count() == 1
    # publishing again changes nothing
    assert roster_publish(roster_id=roster.pk).lake_batch == roster.lake_batch
    assert publish_pending() == []
    # the next month publishes its payments and no approval again (none changed)
    approvals = Batch.objects.filter(dataset="assistance_recipients").count()
    roster_build(actor=preparer, month="2024-02")
    roster_release(actor=approver, roster_id=Roster.objects.get(month="2024-02").pk)
    assert publish_pending() == [Roster.objects.get(month="2024-02").pk]
    assert Batch.objects.filter(dataset="assistance_recipients").count() == approvals
    assert len(_rows("assistance_payments")) == 4


def test_the_fund_check_finds_no_missing_approval_for_the_platforms_own_roster(preparer, approver):
    make_approved_case(TN, amount="1350.00", start_month="2024-01")
    roster_build(actor=preparer, month="2024-01")
    roster = Roster.objects.get()
    roster_release(actor=approver, roster_id=roster.pk)
    roster_publish(roster_id=roster.pk)
    report = check_run(month="2024-01", checks=["NO_APPROVAL"])
    assert [c["found"] for c in report.checks if c["check"] == "NO_APPROVAL"] == [0]
    assert not Finding.objects.exists()


def test_a_stopped_case_publishes_its_end_month(preparer, approver):
    from django.utils import timezone

    month = timezone.localdate().strftime("%Y-%m")
    case = make_approved_case(TN, amount="1000.00", start_month=month)
    dynamic.case_stop(actor=approver, case_id=case.pk, last_month=month, reasons="迁出本市")
    roster_build(actor=preparer, month=month)
    roster = Roster.objects.get()
    roster_release(actor=approver, roster_id=roster.pk)
    roster_publish(roster_id=roster.pk)
    (recipient,) = _rows("assistance_recipients")
    assert str(recipient["end_date"]).startswith(month)
