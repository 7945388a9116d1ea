"""The review pages in Debian's chromium at 1280 px and 360 px: the approver confirms a stop
from the review page; the grid worker's review visit on a phone. Screenshots go to
``$DAJIUZHU_SCREENSHOTS`` (default: the test's temporary folder)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dajiuzhu.cases.models import Case
from dajiuzhu.reviews import services
from dajiuzhu.reviews.models import Review
from tests.conftest import screenshot
from tests.factories.browser import assert_no_overflow, staff_page
from tests.factories.reviews import approved_case, authorise
from tests.factories.verification import load_family

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
PHONE = {"width": 360, "height": 740}
DESK = {"width": 1280, "height": 900}


def test_review_pages_at_desk_and_phone(site, browser, tmp_path, caseworker, approver, grid):
    shots = Path(os.environ.get("DAJIUZHU_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    family = load_family(head_wage="9000.00", complete=True)
    authorise(family.household)
    case = approved_case(family.household, amount="300.00", start_month="2025-06")
    services.reviews_schedule(month="2025-12")
    services.reviews_run_pending()
    review = Review.objects.get()
    services.review_visit_assign(actor=caseworker, review_id=review.pk, assignee_id=grid.pk)

    page = staff_page(browser, site, "grid_cs", PHONE)
    page.goto(f"{site}/work/reviews/visits/")
    assert "最低生活保障复核" in page.content()
    assert_no_overflow(page)
    screenshot(page, str(shots / "reviews-visits-360.png"))
    page.fill("textarea[name=findings]", "入户核实:户主已稳定就业")
    page.click("button:has-text('提交核查情况')")
    page.wait_for_selector("text=暂无派发给您的复核入户任务")
    page.close()

    for viewport, label in ((DESK, "1280"), (PHONE, "360")):
        page = staff_page(browser, site, "ap_tn", viewport)
        page.goto(f"{site}/work/reviews/")
        assert "待审批确认" in page.content()
        assert_no_overflow(page)
        screenshot(page, str(shots / f"reviews-queue-{label}.png"))
        page.goto(f"{site}/work/reviews/{review.pk}/")
        assert "入户核实:户主已稳定就业" in page.content()
        assert_no_overflow(page)
        screenshot(page, str(shots / f"reviews-detail-{label}.png"))
        page.close()

    page = staff_page(browser, site, "ap_tn", PHONE)
    page.goto(f"{site}/work/reviews/{review.pk}/")
    page.click("button:has-text('确认复核结果')")
    page.wait_for_selector("text=复核结果已确认")
    assert "停发通知书(PDF)" in page.content()
    screenshot(page, str(shots / "reviews-stopped-360.png"))
    assert Case.objects.get(pk=case.pk).status == "stopped"
