"""Real pages in Debian's chromium through Playwright (never a downloaded browser)."""

from __future__ import annotations

import pytest

from dajiuzhu.core import crypto
from dajiuzhu.core.roles import Role
from tests.factories.accounts import PASSWORD, make_user
from tests.factories.registry import make_household

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_a_tianning_clerk_sees_masked_numbers_and_not_wujin(site, browser):
    make_user("tn_clerk", Role.WINDOW_CLERK, "320402")
    tn_household, tn_people = make_household("320402001")
    wj_household, wj_people = make_household("320412001")
    number = crypto.decrypt(tn_people[0].id_number_enc, field="person.id_number")

    page = browser.new_page()
    page.goto(f"{site}/login/")
    page.fill("input[name=username]", "tn_clerk")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/work/")
    assert "工作台" in page.title()

    page.click("text=一户一档")
    page.click(f"tr:has-text('{tn_household.household_no}') >> text=查看档案")
    page.wait_for_url(f"{site}/work/households/{tn_household.pk}/")
    shown = page.locator("[data-testid=id-number]").first.inner_text()
    assert shown == f"{number[:4]}**********{number[-4:]}"
    assert number not in page.content()
    assert tn_people[0].name in page.content()

    response = page.goto(f"{site}/work/households/{wj_household.pk}/")
    assert response.status == 404
    assert "不在您的管辖范围内" in page.content()
    assert wj_people[0].name not in page.content()


def test_the_resident_portal_fits_a_360px_phone(site, browser):
    page = browser.new_page(viewport={"width": 360, "height": 740})
    page.goto(f"{site}/portal/")
    assert "居民服务" in page.content()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    page.goto(f"{site}/portal/login/")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    box = page.locator("button.primary").bounding_box()
    assert box["width"] > 300  # full-width, thumb-sized button
