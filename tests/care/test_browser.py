"""The console in Debian's chromium (Playwright): a new alarm appears without reloading, the
operator accepts it and records the outcome; screenshots at 1280 px and 360 px (written to
``$DAJIUZHU_SCREENSHOTS``, default the test's temporary directory)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from django.utils import timezone

from dajiuzhu.care.intake import ingest, topic_for
from dajiuzhu.care.models import Alarm
from dajiuzhu.core.roles import Role
from tests.conftest import screenshot
from tests.factories.accounts import make_user
from tests.factories.browser import staff_login

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("DAJIUZHU_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_a_new_alarm_appears_live_and_is_answered(site, browser, settings, tmp_path, tn_person):
    settings.CARE_STREAM_SECONDS = 5
    shots = _shots(tmp_path)
    make_user("city_call", Role.CALL_OPERATOR, "320400")
    pendant = tn_person.device("PND-B1", "pendant")

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    staff_login(page, site, "city_call")
    page.goto(f"{site}/work/care/")
    assert "当前没有待处置的报警" in page.content()
    page.wait_for_selector("#care-live:has-text('实时连接正常')", timeout=15000)

    payload = {
        "event_id": "b-1",
        "type": "button",
        "at": timezone.now().isoformat(),
        "location": {"lat": 31.78, "lon": 119.95},
    }
    [alarm_id] = ingest(topic_for(pendant), json.dumps(payload)).alarms
    card = page.wait_for_selector(f"#alarm-{alarm_id}", timeout=20000)  # no reload
    assert tn_person.person.name in card.inner_text()
    screenshot(page, str(shots / "care-console-1280.png"))

    page.click(f"#alarm-{alarm_id} button.primary")
    page.wait_for_url(f"{site}/work/care/alarms/{alarm_id}/")
    assert "已接警" in page.content()
    page.select_option("select[name=outcome]", "phone")
    page.fill("textarea[name=note]", "回拨本人,误按")
    page.click("form[action$='/outcome/'] button.primary")
    page.wait_for_selector("text=处置结果已记录")
    screenshot(page, str(shots / "care-alarm-1280.png"))
    assert Alarm.objects.get(pk=alarm_id).outcome == "phone"

    page.close()  # its event stream ends at the server's next poll
    settings.CARE_STREAM_SECONDS = 0  # from here on a stream polls once and ends
    phone = browser.new_page(viewport={"width": 360, "height": 740})
    staff_login(phone, site, "city_call")
    phone.goto(f"{site}/work/care/")
    screenshot(phone, str(shots / "care-console-360.png"))
    phone.goto(f"{site}/work/care/alarms/{alarm_id}/")
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    screenshot(phone, str(shots / "care-alarm-360.png"))
    phone.close()
    assert overflow <= 0


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_figures_population_and_escalation_pages_at_1280_and_360(
    site, browser, settings, tmp_path, tn_person
):
    """The figures page (charts), the special-hardship list and the household file with its
    plan, and the console of a duty supervisor with an escalated alarm, at both widths."""
    from datetime import date, timedelta

    from django.contrib.auth.models import Group

    from dajiuzhu.care import access, services
    from dajiuzhu.registry.models import Membership
    from dajiuzhu.registry.services import category_add
    from tests.care.test_figures import _day

    settings.CARE_STREAM_SECONDS = 0
    shots = _shots(tmp_path)
    _day(tn_person)
    person = tn_person.person
    category_add(actor=None, person=person, category="elderly_alone", start_date=date(2023, 1, 1))
    services.plan_save(
        actor=None,
        person=person,
        services=["智能设备", "上门走访"],
        visit_schedule="每周电话问候,每月上门一次",
        review_date=date(2030, 1, 1),
    )
    household_id = Membership.objects.get(person=person).household_id
    supervisor = make_user("city_sup_b", Role.SUPERVISOR, "320400")
    Group.objects.get_or_create(name=access.DUTY_GROUP)[0].user_set.add(supervisor)
    escalated = Alarm.objects.create(
        rule="FALL",
        spell="esc-b",
        person=person,
        division_code="320402001001",
        raised_at=timezone.now(),
    )
    Alarm.objects.filter(pk=escalated.pk).update(created_at=timezone.now() - timedelta(seconds=90))
    clerk = make_user("tn_clerk_b", Role.WINDOW_CLERK, "320402001")

    for width, height in ((1280, 900), (360, 740)):
        page = browser.new_page(viewport={"width": width, "height": height})
        staff_login(page, site, "city_sup_b")
        page.goto(f"{site}/work/care/figures/?from=2024-03-05&to=2024-03-06")
        assert page.inner_text("[data-testid=share-60]") == "50.0%"
        assert page.locator(".chart svg").count() == 3
        screenshot(page, str(shots / f"care-figures-{width}.png"))
        assert _overflow(page) <= 0, "figures"
        page.goto(f"{site}/work/care/people/")
        assert page.locator("[data-testid=person-row]").count() == 1
        assert "计划有效(第 1 版" in page.inner_text("body")
        screenshot(page, str(shots / f"care-population-{width}.png"))
        assert _overflow(page) <= 0, "population"
        page.goto(f"{site}/work/care/")
        page.wait_for_selector(f"#escalated-{escalated.pk}")
        assert "超时升级给您(值班主管):2 起" in page.inner_text(
            "#care-escalated"
        )  # and 03-05 23:30
        screenshot(page, str(shots / f"care-console-escalated-{width}.png"))
        assert _overflow(page) <= 0, "console"
        page.close()

        page = browser.new_page(viewport={"width": width, "height": height})
        staff_login(page, site, "tn_clerk_b")
        page.goto(f"{site}/work/households/{household_id}/")
        assert page.locator("[data-testid=care-plan]").count() == 1
        assert "第 1 版" in page.inner_text("[data-testid=care-plan]")
        screenshot(page, str(shots / f"care-household-plan-{width}.png"))
        assert _overflow(page) <= 0, "household"
        page.close()
    assert clerk.pk
