"""The grid worker's task list on a 360 px phone, in Debian's chromium (Playwright)."""

from __future__ import annotations

import pytest

from dajiuzhu.warnings import services
from dajiuzhu.warnings.models import Warning
from tests.factories.accounts import PASSWORD, make_user
from tests.factories.city import TN_COMMUNITY, YEAR, City

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_a_grid_worker_records_an_outcome_on_a_phone(site, browser):
    c = City()
    p = c.person("phone")
    c.accident(p, "AC-PHONE", f"{YEAR}-06-06", "fatal")
    c.load()
    services.scan_run(year=YEAR, rules=["TRAFFIC"])
    warning = Warning.objects.get()
    clerk = make_user("tn_clerk", "window_clerk", "320402001")
    grid = make_user("tn_grid", "grid_worker", TN_COMMUNITY)
    services.warning_assign(actor=clerk, warning_id=warning.pk, assignee_id=grid.pk)

    page = browser.new_page(viewport={"width": 360, "height": 740})
    page.goto(f"{site}/login/")
    page.fill("input[name=username]", "tn_grid")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/work/")
    page.goto(f"{site}/work/warnings/tasks/")
    assert "预警phone" in page.content()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    card = page.locator(f"#w{warning.pk}")
    card.locator("select[name=outcome]").select_option("unreachable")
    card.locator("textarea[name=notes]").fill("两次上门无人,已留联系卡")
    box = card.locator("button.primary").bounding_box()
    assert box["width"] >= 280  # a thumb-sized button across the card
    card.locator("button.primary").click()
    page.wait_for_url(f"{site}/work/warnings/tasks/#w{warning.pk}")
    assert "核查结果已登记" in page.content()
    warning.refresh_from_db()
    assert (warning.status, warning.outcome) == ("investigated", "unreachable")
