"""Every role's main page in Debian's chromium, at 360 px (a phone) and 1280 px: it opens, fits
the screen, logs no console error (the Content-Security-Policy blocks inline scripts), shows no
developer output, and on a phone the menu is folded behind a button with no band under it.
Screenshots go to build/screenshots/ (looked at by hand)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from dajiuzhu.core.roles import Role
from tests.conftest import screenshot
from tests.factories.accounts import PASSWORD, make_user
from tests.factories.registry import make_household

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
# Words of developer output that must not reach a page a user reads.
DEVELOPER = re.compile(
    r"\b(True|False|None|data_steward|window_clerk|grid_worker|illustrative|No data|"
    r"currency-CNY|Traceback)\b"
)
ROLES = [
    # (username, role, scope, department, main page)
    ("tn_town_clerk", Role.WINDOW_CLERK, "320402001", None, "/work/warnings/"),
    ("tn_caseworker", Role.CASEWORKER, "320402", None, "/work/verification/"),
    ("tn_town_grid", Role.GRID_WORKER, "320402001001", None, "/work/warnings/tasks/"),
    ("tn_clerk", Role.WINDOW_CLERK, "320402", None, "/work/warnings/stats/"),
    ("tn_steward", Role.DATA_STEWARD, "320402", "minzheng", "/work/exchange/batches/"),
    ("tn_supervisor", Role.SUPERVISOR, "320402", None, "/work/"),
    ("tn_auditor", Role.AUDITOR, "320402", None, "/work/audit/"),
    ("city_admin", Role.ADMIN, "320400", None, "/work/admin/users/"),
]


def _world():
    """Staff of every role, a household with phones, and a warning assigned to the grid
    worker (so the task list has a card with its call link)."""
    from dajiuzhu.warnings.models import Warning

    household, people = make_household("320402001")  # (creates community 320402001001)
    users = {
        name: make_user(name, role, scope, department) for name, role, scope, department, _ in ROLES
    }
    now = timezone.now()
    Warning.objects.create(
        rule="MED_FALL",
        year=2023,
        person_key=people[0].person_key,
        household_no=household.household_no,
        division_code="320402001001",
        town_id="320402001",
        evidence={},
        status="assigned",
        pushed_at=now,
        due_date=timezone.localdate() + timedelta(days=14),
        assignee=users["tn_town_grid"],
        assigned_by=users["tn_town_clerk"],
        assigned_at=now,
        amount="52000.00",
    )
    return users, people


def _log_in(page, site_url: str, username: str) -> None:
    page.goto(f"{site_url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site_url}/work/")


def test_every_roles_main_page_at_360_and_1280_px(site, browser):
    _world()
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for username, _role, _scope, _dept, path in ROLES:
        for width in (360, 1280):
            context = browser.new_context(viewport={"width": width, "height": 800})
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m, e=errors: e.append(m.text) if m.type == "error" else None)
            _log_in(page, site, username)
            response = page.goto(f"{site}{path}")
            page.wait_for_load_state("networkidle")
            screenshot(page, str(SHOTS / f"{username}-{width}.png"))
            where = f"{username} {path} {width}px"
            if response.status != 200:
                problems.append(f"{where}: status {response.status}")
            if errors:
                problems.append(f"{where}: console {errors[:2]}")
            text = page.inner_text("body")
            if DEVELOPER.search(text):
                problems.append(f"{where}: developer output {DEVELOPER.search(text).group(0)!r}")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 0:
                problems.append(f"{where}: {overflow}px sideways scrolling")
            if width == 360:
                problems += _phone_shell(page, where)
            context.close()
    assert problems == [], "\n".join(problems)


def _phone_shell(page, where: str) -> list[str]:
    """On a phone: the menu folded behind one button, opened by it, and no band between the
    menu and the page."""
    problems = []
    menu = page.locator(".sidenav ul")
    if menu.is_visible():
        problems.append(f"{where}: the menu is not folded")
    page.click("label.navtoggle-label")
    if not menu.is_visible() or not page.locator(".sidenav a", has_text="工作台").is_visible():
        problems.append(f"{where}: the menu button does not open the menu")
    page.click("label.navtoggle-label")
    nav = page.locator(".sidenav").bounding_box()
    main = page.locator("main").bounding_box()
    if main["y"] - (nav["y"] + nav["height"]) > 2:
        problems.append(f"{where}: a band of {main['y'] - nav['y'] - nav['height']:.0f}px")
    return problems


def test_the_grid_workers_phone_shows_the_task_as_a_card_with_a_call_link(site, browser):
    _world()
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    _log_in(page, site, "tn_town_grid")
    page.goto(f"{site}/work/warnings/tasks/")
    call = page.locator("a.call")
    assert call.count() == 1
    assert call.get_attribute("href").startswith("tel:139")
    box = call.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    context.close()


def test_a_resident_on_a_phone_reads_where_to_apply(site, browser):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(f"{site}/portal/")
    SHOTS.mkdir(parents=True, exist_ok=True)
    screenshot(page, str(SHOTS / "resident-360.png"))
    text = page.inner_text("body")
    assert "便民服务中心" in text and "建设中" not in text
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.set_viewport_size({"width": 1280, "height": 800})
    screenshot(page, str(SHOTS / "resident-1280.png"))
    context.close()


def test_the_chart_pages_log_no_console_error(site, browser):
    """The charts' scripts were blocked by the CSP (console errors on the warning, statistics
    and quality pages)."""
    _world()
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _log_in(page, site, "city_admin")
    for path in ("/work/warnings/stats/", "/work/warnings/", "/work/exchange/quality/"):
        response = page.goto(f"{site}{path}")
        page.wait_for_load_state("networkidle")
        assert response.status == 200, path
    assert errors == []
    assert page.request.get(f"{site}/favicon.ico").status == 200
