"""The payments pages in Debian's chromium: the caseworker builds the month's rosters, the
approver releases one and finds the bank file, the returns page — at 1280 px and 360 px with no
sideways scrolling; the resident's payments on a 360 px phone. Screenshots go to
``$DAJIUZHU_SCREENSHOTS`` (default: the test's temporary folder)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Role
from dajiuzhu.payments.models import Payment, PaymentStatus, Roster
from dajiuzhu.payments.services import roster_build, roster_release
from tests.conftest import screenshot
from tests.factories.accounts import make_user
from tests.factories.browser import assert_no_overflow, staff_page
from tests.factories.cases import make_approved_case

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
PHONE = {"width": 360, "height": 740}
DESK = {"width": 1280, "height": 900}
TN = "320402001"


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("DAJIUZHU_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_build_release_and_returns_at_desk_and_phone_widths(site, browser, tmp_path):
    shots = _shots(tmp_path)
    make_user("pay_cw", Role.CASEWORKER, "320402", "minzheng")
    make_user("pay_ap", Role.APPROVER, "320402", "minzheng")
    for amount in ("1350.00", "620.50", "2081.00"):
        make_approved_case(TN, amount=amount, start_month="2024-01")
    make_approved_case(TN, programme="tekun", amount="2081.00", start_month="2024-01")
    for name, viewport in (("1280", DESK), ("360", PHONE)):
        Payment.objects.all().delete()
        Roster.objects.all().delete()
        page = staff_page(browser, site, "pay_cw", viewport)
        if viewport is PHONE:
            page.click("label.navtoggle-label")  # the phone's menu folds away
        page.click("nav >> text=救助金发放")
        page.fill("form[aria-label=编制名册] input[name=month]", "2024-01")
        page.click("button:has-text('编制/更新名册')")
        page.wait_for_selector("text=已编制 2024-01 名册")
        assert "最低生活保障" in page.content() and "特困人员救助供养" in page.content()
        assert_no_overflow(page)
        screenshot(page, str(shots / f"payments-rosters-{name}.png"))
        roster = Roster.objects.get(programme="dibao")
        page = staff_page(browser, site, "pay_ap", viewport)
        page.goto(f"{site}/work/payments/rosters/{roster.pk}/")
        page.click("button:has-text('审核通过并发放')")
        page.wait_for_selector("text=名册已审核发放")
        assert "下载银行代发文件" in page.content()
        assert_no_overflow(page)
        screenshot(page, str(shots / f"payments-roster-{name}.png"))
        with page.expect_download() as download:
            page.click("button:has-text('下载银行代发文件')")
        assert download.value.suggested_filename.endswith(".xlsx")
        Payment.objects.filter(roster=roster).order_by("id").filter(
            pk=Payment.objects.filter(roster=roster).order_by("id").first().pk
        ).update(status=PaymentStatus.RETURNED, return_reason="账户已销户")
        page = staff_page(browser, site, "pay_cw", viewport)
        page.goto(f"{site}/work/payments/returns/")
        assert "账户已销户" in page.content() and "重新发放" in page.content()
        assert_no_overflow(page)
        screenshot(page, str(shots / f"payments-returns-{name}.png"))


def test_the_resident_sees_the_payments_on_a_phone(site, browser, tmp_path):
    shots = _shots(tmp_path)
    preparer = make_user("pay_cw", Role.CASEWORKER, "320402", "minzheng")
    approver = make_user("pay_ap", Role.APPROVER, "320402", "minzheng")
    case = make_approved_case(TN, amount="1350.00", start_month="2024-01")
    for month in ("2024-01", "2024-02"):
        roster_build(actor=preparer, month=month)
        roster_release(actor=approver, roster_id=Roster.objects.get(month=month).pk)
    Payment.objects.filter(month="2024-02").update(
        status=PaymentStatus.RETURNED, return_reason="社保卡已挂失"
    )
    person = case.application.applicant
    User.objects.create(username="r_pay", role="resident", phone_index=person.phone_index)
    from django.contrib.auth import get_user_model

    resident = get_user_model().objects.get(username="r_pay")
    page = browser.new_page(viewport=PHONE)
    # log in as the resident through the session (the phone log-in is walked in tests/cases)
    from django.test import Client

    client = Client()
    client.force_login(resident)
    cookie = client.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": cookie, "url": site}])
    page.goto(f"{site}/portal/")
    page.click("text=我的救助金")
    page.wait_for_url(f"{site}/portal/payments/")
    content = page.content()
    assert "1350.00 元" in content and "银行退回" in content and "社保卡已挂失" in content
    assert_no_overflow(page)
    screenshot(page, str(shots / "payments-portal-360.png"))
