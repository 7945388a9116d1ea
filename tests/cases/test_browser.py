"""The resident's journey on a 360 px phone in Debian's chromium, counting the screens from the
portal's home to "submitted" (at most 5); the staff pages at 1280 px and 360 px. Screenshots go
to ``$DAJIUZHU_SCREENSHOTS`` (default: the test's temporary folder)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from dajiuzhu.cases.models import Application
from dajiuzhu.core import crypto
from dajiuzhu.core.roles import Role
from dajiuzhu.core.sms import RecordingSmsBackend
from tests.cases.conftest import TOWN, id_number_of
from tests.conftest import screenshot
from tests.factories.accounts import PASSWORD, make_user
from tests.factories.registry import make_household

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
PHONE = {"width": 360, "height": 740}
DESK = {"width": 1280, "height": 900}


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("DAJIUZHU_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _last_code(pattern: str) -> str:
    for message in reversed(RecordingSmsBackend.outbox):
        found = re.search(pattern, message.text)
        if found:
            return found.group(1)
    raise AssertionError("no code sent")


def _no_overflow(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def test_a_resident_applies_in_at_most_five_screens(site, browser, tmp_path):
    shots = _shots(tmp_path)
    _h, people = make_household(TOWN, members=2)
    phone = crypto.decrypt(people[0].phone_enc, field="person.phone")
    page = browser.new_page(viewport=PHONE)
    screens: list[str] = []
    page.on("framenavigated", lambda f: f == page.main_frame and screens.append(f.url))

    page.goto(f"{site}/portal/")  # 1
    page.click("text=我要申请")  # 2: the log-in (the portal asks for it first)
    page.wait_for_url(re.compile(r".*/portal/login/.*"))
    page.fill("input[name=phone]", phone)
    page.click("button[value=send]")  # 3: the code was sent
    page.wait_for_selector("input[name=code]")
    page.fill("input[name=code]", _last_code(r"登录验证码为(\d{6})"))
    page.click("button[value=verify]")  # 4: the application form
    page.wait_for_url(f"{site}/portal/apply/")
    _no_overflow(page)
    page.fill("input[name=id_number]", id_number_of(people[0]))
    for person in people:  # each adult signs with a code sent to their own phone (htmx)
        page.click(f"button[hx-vals*='\"{person.pk}\"']")
        page.wait_for_selector(f"#sent-{person.pk} .ok")
        page.fill(f"input[name=code_{person.pk}]", _last_code(r"验证码(\d{6})即表示"))
    page.check("input[name=programmes][value=dibao]")
    page.check("input[name=commitment]")
    screenshot(page, str(shots / "portal-apply-360.png"))
    page.click("button:has-text('提交申请')")  # 5: submitted, the status page
    page.wait_for_url(re.compile(r".*/portal/applications/SQ\d+/"))
    app = Application.objects.get()
    assert app.channel == "phone"
    assert app.application_no in page.content()
    assert "入户调查" in page.content() and "期限" in page.content()
    _no_overflow(page)
    screenshot(page, str(shots / "portal-status-360.png"))
    assert len(screens) <= 5, screens


def test_staff_pages_at_desk_and_phone_widths(site, browser, tmp_path):
    from dajiuzhu.cases.services import Upload, application_submit

    shots = _shots(tmp_path)
    clerk = make_user("clerk_wj", Role.WINDOW_CLERK, "320412001")
    make_user("cw_tn", Role.CASEWORKER, TOWN)
    _h, people = make_household(TOWN, members=2)
    app = application_submit(
        actor=clerk,
        channel="window",
        id_number=id_number_of(people[0]),
        programmes=["dibao", "yiliao"],
        paper_authorisations={p.pk: Upload("a.pdf", b"%PDF-1.4 x") for p in people},
        commitment=True,
        missing_documents=["医疗费用票据"],
    )
    case = app.cases.order_by("pk").first()
    for viewport, label in ((DESK, "1280"), (PHONE, "360")):
        page = browser.new_page(viewport=viewport)
        page.goto(f"{site}/login/")
        page.fill("input[name=username]", "cw_tn")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{site}/work/")
        if viewport is PHONE:  # on a phone the menu is folded behind its button
            page.click("label.navtoggle-label")
        page.click(".sidenav a:has-text('救助申请')")
        page.wait_for_url(f"{site}/work/cases/")
        assert app.application_no in page.content()
        screenshot(page, str(shots / f"staff-queue-{label}.png"))
        page.click(f"a[href='/work/cases/{case.pk}/']")
        page.wait_for_url(f"{site}/work/cases/{case.pk}/")
        assert "登记入户调查" in page.content()
        screenshot(page, str(shots / f"staff-case-{label}.png"))
        page.goto(f"{site}/work/cases/new/")
        screenshot(page, str(shots / f"staff-intake-{label}.png"))
        page.goto(f"{site}/gongshi/")
        screenshot(page, str(shots / f"public-gongshi-{label}.png"))
        page.close()
