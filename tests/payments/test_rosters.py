"""The month's rosters through the API: who pays, how much, from when to when; building twice
changes nothing; two people prepare and release; a released roster never changes and a
correction is a supplementary roster."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from dajiuzhu.cases import dynamic
from dajiuzhu.cases.models import Case
from dajiuzhu.core.models import AuditEvent
from dajiuzhu.payments.models import Payment, PaymentStatus, Roster
from tests.factories.accounts import client_for
from tests.factories.cases import make_approved_case

TN = "320402001"
WJ = "320412001"


def _build(user, month, district=None):
    body = {"month": month} | ({"district": district} if district else {})
    return client_for(user).post("/api/v1/payments/rosters", body, content_type="application/json")


def _release(user, roster_id):
    return client_for(user).post(f"/api/v1/payments/rosters/{roster_id}/release")


@pytest.fixture
def cases(db):
    return {
        "dibao": make_approved_case(TN, amount="1350.00", start_month="2024-01"),
        "tekun": make_approved_case(TN, programme="tekun", amount="2081.00", start_month="2024-02"),
        "linshi": make_approved_case(
            TN, programme="linshi", amount="3000.00", start_month="2024-01"
        ),
        "wj": make_approved_case(WJ, amount="990.00", start_month="2024-01"),
    }


def test_a_district_roster_lists_each_payable_case_once_per_programme(preparer, cases):
    r = _build(preparer, "2024-01")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["rosters_created"] == 2  # 天宁区: 低保 and 临时救助 (特困 starts in February)
    assert body["lines_added"] == 2
    rosters = {x.programme: x for x in Roster.objects.filter(month="2024-01")}
    assert set(rosters) == {"dibao", "linshi"}
    assert all(x.district_id == "320402" for x in rosters.values())
    assert rosters["dibao"].total == Decimal("1350.00")
    assert rosters["linshi"].total == Decimal("3000.00")
    payment = Payment.objects.get(case=cases["dibao"])
    assert payment.payment_id == f"DJZ202401{cases['dibao'].pk:09d}"
    assert payment.status == PaymentStatus.PENDING
    assert payment.person_id == cases["dibao"].application.applicant_id
    assert not Payment.objects.filter(case=cases["wj"]).exists()  # another district


def test_building_twice_creates_nothing_new(preparer, cases):
    _build(preparer, "2024-01")
    before = list(Payment.objects.values_list("payment_id", "amount").order_by("id"))
    again = _build(preparer, "2024-01").json()
    assert again["rosters_created"] == 0
    assert again["lines_added"] == again["lines_updated"] == again["lines_removed"] == 0
    assert again["unchanged_rosters"] == 2
    assert list(Payment.objects.values_list("payment_id", "amount").order_by("id")) == before
    assert Roster.objects.count() == 2


def test_a_once_programme_is_paid_only_in_its_start_month(preparer, cases):
    _build(preparer, "2024-01")
    _build(preparer, "2024-02")
    assert Payment.objects.filter(case=cases["linshi"]).count() == 1
    assert set(Payment.objects.filter(month="2024-02").values_list("programme", flat=True)) == {
        "dibao",
        "tekun",
    }


def test_the_preparer_cannot_release_and_an_approver_releases(preparer, approver, cases):
    _build(preparer, "2024-01")
    roster = Roster.objects.get(month="2024-01", programme="dibao")
    r = _release(preparer, roster.pk)
    assert r.status_code == 403
    r = _release(approver, roster.pk)
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "released"
    roster.refresh_from_db()
    assert roster.released_by == approver and roster.paid_date == timezone.localdate()
    assert set(Payment.objects.filter(roster=roster).values_list("status", flat=True)) == {"paid"}
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"payments.roster.prepare", "payments.roster.release"} <= actions
    again = _release(approver, roster.pk)
    assert again.status_code == 400 and again.json()["code"] == "payments.released"


def test_a_released_roster_never_changes_and_a_new_case_goes_on_a_supplementary_one(
    preparer, approver, cases
):
    _build(preparer, "2024-01")
    regular = Roster.objects.get(month="2024-01", programme="dibao")
    _release(approver, regular.pk)
    late = make_approved_case(TN, amount="800.00", start_month="2024-01")
    Case.objects.filter(pk=cases["dibao"].pk).update(amount=Decimal("1.00"))  # ignored: paid
    body = _build(preparer, "2024-01").json()
    assert body["rosters_created"] == 1 and body["lines_added"] == 1
    supplementary = Roster.objects.get(month="2024-01", programme="dibao", seq=2)
    assert list(Payment.objects.filter(roster=supplementary).values_list("case_id", flat=True)) == [
        late.pk
    ]
    regular.refresh_from_db()
    assert regular.lines == 1 and regular.total == Decimal("1350.00")
    assert Payment.objects.get(case=cases["dibao"]).amount == Decimal("1350.00")


def test_amounts_follow_changes_and_stop_after_the_stop_month(preparer, approver, cases):
    case = cases["dibao"]
    Case.objects.filter(pk=case.pk).update(start_month="2026-11")
    this_month = timezone.localdate().strftime("%Y-%m")
    dynamic.case_amount_change(
        actor=approver, case_id=case.pk, from_month=this_month, amount="900", reason="收入增加"
    )
    dynamic.case_stop(
        actor=approver, case_id=case.pk, last_month=this_month, reasons="收入超过标准"
    )
    amounts = {}
    for month in ("2026-11", this_month):
        _build(preparer, month, "320402")
        amounts[month] = Payment.objects.get(case=case, month=month).amount
    assert amounts["2026-11"] == Decimal("1350.00") if this_month != "2026-11" else True
    assert amounts[this_month] == Decimal("900.00")
    nxt = (
        f"{int(this_month[:4]) + int(this_month[5:]) // 12:04d}-{int(this_month[5:]) % 12 + 1:02d}"
    )
    _build(preparer, nxt, "320402")
    assert not Payment.objects.filter(case=case, month=nxt).exists()


def test_a_payee_who_died_before_the_month_is_not_paid(preparer, cases):
    applicant = cases["dibao"].application.applicant
    applicant.death_date = date(2023, 12, 20)
    applicant.save(update_fields=["death_date"])
    body = _build(preparer, "2024-01").json()
    assert body["deceased"] == 1
    assert not Payment.objects.filter(case=cases["dibao"]).exists()


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2023-06", "早于所有已批准案件的发放起始月份(最早为2024-01)"),
        ("2024-13", "月份格式不正确"),
        ("2099-01", "发放月份不能晚于"),
    ],
)
def test_bad_months_are_refused_with_a_message(preparer, cases, month, message):
    r = _build(preparer, month)
    assert r.status_code == 400
    assert r.json()["code"] == "payments.month"
    assert message in r.json()["message"]
    assert not Roster.objects.exists()


def test_towns_and_other_districts_cannot_build_or_release(
    town_caseworker, wj_preparer, preparer, approver, cases
):
    assert _build(town_caseworker, "2024-01").status_code == 403
    assert _build(wj_preparer, "2024-01", "320402").status_code == 404
    _build(preparer, "2024-01")
    roster = Roster.objects.get(month="2024-01", programme="dibao")
    assert _release(wj_preparer, roster.pk).status_code == 404
    listed = client_for(wj_preparer).get("/api/v1/payments/rosters", {"month": "2024-01"}).json()
    assert listed == []
    roster.refresh_from_db()
    assert roster.status == "prepared"
