"""What the browser tests share: logging a staff account in, and the no-horizontal-overflow check
of a page (the 360 px layouts)."""

from __future__ import annotations

from tests.factories.accounts import PASSWORD


def staff_login(page, site: str, username: str) -> None:
    page.goto(f"{site}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/work/")


def staff_page(browser, site: str, username: str, viewport: dict):
    """A new page of ``viewport`` size, logged in as ``username``."""
    page = browser.new_page(viewport=viewport)
    staff_login(page, site, username)
    return page


def overflow(page) -> int:
    """How many pixels the page is wider than the window (0 or less: no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def assert_no_overflow(page) -> None:
    assert overflow(page) <= 0
