"""Complaints and the scorecard in Debian's chromium at 360 px and 1280 px: an anonymous report
and its tracking page, a resident's report on the phone portal, the district supervisor's
queue and report page (taking it, reading the reporter), the scorecard with its charts and a
drill-down. Screenshots under ``build/screenshots/`` (looked at, not compared)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dajiuzhu.core import crypto
from dajiuzhu.core.sms import RecordingSmsBackend
from dajiuzhu.supervision.models import Complaint
from tests.conftest import screenshot
from tests.factories.accounts import make_user
from tests.factories.browser import staff_login
from tests.factories.registry import make_household

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
CONTENT = "雕庄街道某小区有一户家里开着小轿车,还一直领着低保,请核实。"


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def _shot(page, name: str, width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    _fits(page)
    screenshot(page, str(SHOTS / f"{name}-{width}.png"))


def _code(pattern: str) -> str:
    for message in reversed(RecordingSmsBackend.outbox):
        found = re.search(pattern, message.text)
        if found:
            return found.group(1)
    raise AssertionError("no code sent")


@pytest.mark.parametrize("width", [360, 1280])
def test_reports_from_the_public_and_the_portal_reach_the_supervisor(site, browser, width):
    make_user("tn_supervisor", "supervisor", "320402")
    viewport = {"width": width, "height": 900}

    # anyone, anonymously, on the public page
    page = browser.new_page(viewport=viewport)
    page.goto(f"{site}/jubao/")
    page.check("input[value=ineligible_recipient]")
    page.select_option("select[name=division]", "320402001")
    page.fill("textarea[name=content]", "太短")
    page.click("form button.primary")
    assert "反映内容请至少写10个字" in page.content()  # a clear Chinese error, the form kept
    page.fill("textarea[name=content]", CONTENT)
    page.fill("input[name=name]", "李四")
    page.fill("input[name=phone]", "13900001111")
    _shot(page, "complaint-form", width)
    page.click("form button.primary")
    page.wait_for_url(f"{site}/jubao/done/")
    code = page.inner_text("#tracking-code").strip()
    assert code.startswith("JB")
    _shot(page, "complaint-done", width)
    page.click("text=查询办理情况")
    page.wait_for_url(re.compile(r".*/jubao/track/\?code=.*"))
    assert "已受理,待办理" in page.content() and CONTENT not in page.content()
    _shot(page, "complaint-track", width)
    page.close()

    # a resident logged in on the phone portal
    _h, people = make_household("320402001", members=1)
    phone = crypto.decrypt(people[0].phone_enc, field="person.phone")
    page = browser.new_page(viewport=viewport)
    page.goto(f"{site}/portal/")
    page.click("text=投诉举报")
    page.wait_for_url(re.compile(r".*/portal/login/.*"))
    page.fill("input[name=phone]", phone)
    page.click("button[value=send]")
    page.wait_for_selector("input[name=code]")
    page.fill("input[name=code]", _code(r"登录验证码为(\d{6})"))
    page.click("button[value=verify]")
    page.wait_for_url(f"{site}/portal/jubao/")
    page.check("input[value=handling]")
    page.select_option("select[name=division]", "320402")
    page.fill("textarea[name=content]", "申请低保两个月了没有人来入户调查,打电话也没人回复。")
    _shot(page, "complaint-portal", width)
    page.click("form button.primary")
    page.wait_for_url(f"{site}/jubao/done/")
    page.goto(f"{site}/portal/jubao/")
    assert "我的举报" in page.content() and "已受理,待办理" in page.content()
    page.close()

    # the district's supervisor: the queue, the report, taking it, the reporter
    anonymous = Complaint.objects.get(tracking_code=code)
    page = browser.new_page(viewport=viewport)
    staff_login(page, site, "tn_supervisor")
    page.goto(f"{site}/work/supervision/complaints/")
    assert "案件办理拖延或不当" in page.content() and "不该享受救助的人在领取" in page.content()
    _shot(page, "complaints-queue", width)
    page.goto(f"{site}/work/supervision/complaints/{anonymous.pk}/")
    assert "李四" not in page.content()
    page.click("button:text-is('承办')")
    page.wait_for_url(f"{site}/work/supervision/complaints/{anonymous.pk}/")
    page.click("button:has-text('查看举报人信息')")
    page.wait_for_selector("text=13900001111")
    assert "李四" in page.content()
    _shot(page, "complaint-detail", width)
    page.close()


@pytest.mark.parametrize("width", [360, 1280])
def test_the_scorecard_with_charts_and_a_drill_down(site, browser, width):
    from tests.supervision.test_scorecard import _world

    _world()
    make_user("city_supervisor", "supervisor", "320400")
    page = browser.new_page(viewport={"width": width, "height": 900})
    staff_login(page, site, "city_supervisor")
    page.goto(f"{site}/work/supervision/scorecard/?month=2024-03")
    assert page.locator("svg").count() >= 4
    _shot(page, "scorecard", width)
    page.click("text=天宁区")
    page.wait_for_url(re.compile(r".*level=town&parent=320402.*"))
    assert "雕庄街道" in page.content()
    _shot(page, "scorecard-towns", width)
    page.click("a:text('0.5000') >> nth=0")
    page.wait_for_url(re.compile(r".*/scorecard/behind/.*"))
    assert "明细" in page.content()
    _shot(page, "scorecard-behind", width)
    page.close()
