"""The pages users rely on: the district's rosters (build, release, the bank file), the
returns page, and the resident's payments on the phone — each month's amount, date and status."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from dajiuzhu.core.models import User
from dajiuzhu.payments.models import Payment, PaymentStatus, Roster
from dajiuzhu.payments.services import roster_build, roster_release
from tests.factories.accounts import client_for
from tests.factories.cases import make_approved_case

TN = "320402001"


def test_a_caseworker_builds_on_the_page_and_an_approver_releases_and_downloads(preparer, approver):
    make_approved_case(TN, amount="1350.00", start_month="2024-01")
    page = client_for(preparer).post("/work/payments/", {"month": "2024-01"}).content.decode()
    assert "已编制 2024-01 名册:新建 1 份,新增 1 笔" in page
    assert "最低生活保障" in page and "1350.00" in page and "待审核" in page
    roster = Roster.objects.get()
    own = client_for(preparer).get(f"/work/payments/rosters/{roster.pk}/").content.decode()
    assert "审核通过并发放" not in own and "待审批人员(非编制人)审核发放" in own
    client = client_for(approver)
    r = client.post(f"/work/payments/rosters/{roster.pk}/", follow=True)
    text = r.content.decode()
    assert "名册已审核发放" in text and "已审核发放" in text and "下载银行代发文件" in text
    r = client.get(f"/work/payments/rosters/{roster.pk}/file/", {"template": "yikatong"})
    assert r.status_code == 200 and r["Cache-Control"] == "no-store"
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][4] == "1350.00"


def test_a_town_caseworker_is_told_rosters_are_the_districts(town_caseworker):
    r = client_for(town_caseworker).post("/work/payments/", {"month": "2024-01"})
    assert r.status_code == 403
    assert "发放名册由区(市)民政部门编制和审核" in r.content.decode()


def test_the_resident_sees_each_months_payment_and_a_return(preparer, approver):
    case = make_approved_case(TN, amount="1350.00", start_month="2024-01")
    for month in ("2024-01", "2024-02"):
        roster_build(actor=preparer, month=month)
        roster_release(actor=approver, roster_id=Roster.objects.get(month=month).pk)
    roster_build(actor=preparer, month="2024-03")  # still being prepared: not shown
    Payment.objects.filter(case=case, month="2024-02").update(
        status=PaymentStatus.RETURNED, return_reason="社保卡已挂失"
    )
    applicant = case.application.applicant
    resident = User.objects.create(
        username="r_pay", role="resident", phone_index=applicant.phone_index
    )
    page = client_for(resident).get("/portal/payments/").content.decode()
    assert page.count("1350.00 元") == 2
    assert "2024-01 最低生活保障" in page and "已发放" in page
    assert "银行退回" in page and "社保卡已挂失" in page
    assert "2024-03" not in page
    api = client_for(resident).get("/api/v1/payments/mine").json()
    assert [(p["month"], p["status"]) for p in api] == [
        ("2024-02", "returned"),
        ("2024-01", "paid"),
    ]
    stranger = User.objects.create(username="r_other", role="resident", phone_index="x" * 64)
    assert "还没有发放记录" in client_for(stranger).get("/portal/payments/").content.decode()
    assert client_for(stranger).get("/api/v1/payments/mine").json() == []
