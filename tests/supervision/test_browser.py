"""The findings queue and a finding's page on a 360 px phone and a 1280 px desktop, in Debian's
chromium (Playwright); screenshots under ``docs/screenshots/`` (looked at, not compared)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dajiuzhu.supervision.models import Finding
from dajiuzhu.supervision.running import check_run
from tests.conftest import screenshot
from tests.factories.accounts import make_user
from tests.factories.browser import staff_login
from tests.supervision.conftest import MONTH, build_fund_city

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"  # docs/ keeps chosen ones


@pytest.mark.parametrize("width", [360, 1280])
def test_a_district_rectifies_a_finding_at_both_widths(site, browser, width):
    c = build_fund_city()
    c.load()
    check_run(month=MONTH)
    make_user("tn_caseworker", "caseworker", "320402")
    make_user("tn_supervisor", "supervisor", "320402")
    finding = Finding.objects.get(check_code="VEHICLE")

    page = browser.new_page(viewport={"width": width, "height": 900})
    staff_login(page, site, "tn_supervisor")
    page.goto(f"{site}/work/supervision/findings/")
    assert "家庭成员有机动车" in page.content()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    screenshot(page, str(SHOTS / f"supervision-queue-{width}.png"))
    page.goto(f"{site}/work/supervision/findings/{finding.pk}/")
    assert "苏D12345" in page.content()  # the household's car, within the 监督 purpose
    screenshot(page, str(SHOTS / f"supervision-finding-{width}.png"))
    page.close()

    page = browser.new_page(viewport={"width": width, "height": 900})
    staff_login(page, site, "tn_caseworker")
    page.goto(f"{site}/work/supervision/findings/{finding.pk}/")
    page.check("input[value=explained]")
    page.fill("textarea[name=notes]", "车辆已于2024年2月过户,附过户证明")
    page.click("form button.primary")
    page.wait_for_url(f"{site}/work/supervision/findings/{finding.pk}/")
    assert "整改情况已登记" in page.content()
    screenshot(page, str(SHOTS / f"supervision-rectified-{width}.png"))
    finding.refresh_from_db()
    assert finding.status == "explained"
