"""Shared fixtures: reference data once per test database, persona users, the browser (the
builders they use are in tests/factories/).

Personas (STYLE.md): a window clerk of 天宁区, a caseworker of 武进区, a resident, an outsider.
"""

from __future__ import annotations

import os
import shutil

import pytest

from dajiuzhu.core.reference import reference_data_load
from dajiuzhu.core.roles import Role
from tests.factories.accounts import PASSWORD, client_for, make_legacy_admin, make_user  # noqa: F401
from tests.factories.registry import make_household, new_id_number  # noqa: F401

REQUIRE_ALL = os.environ.get("DAJIUZHU_REQUIRE_ALL") == "1"


def require(condition: bool, reason: str) -> None:
    """Skip with a visible reason when a service/browser/extra is missing — unless CI demands
    everything (DAJIUZHU_REQUIRE_ALL=1), in which case fail."""
    if condition:
        return
    if REQUIRE_ALL:
        pytest.fail(f"required but unavailable: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        reference_data_load()


@pytest.fixture(autouse=True, scope="session")
def _probe_report():
    """Write the security probes' counts when asked (tests/probe_tally.py)."""
    yield
    from tests import probe_tally

    probe_tally.dump()


@pytest.fixture(autouse=True, scope="session")
def _huey_immediate():
    """Background tasks run in-line in tests (they are enqueued on commit, as in production)."""
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield
    HUEY.immediate = False


@pytest.fixture(autouse=True)
def _recording_sms(settings):
    from dajiuzhu.core.sms import RecordingSmsBackend

    settings.SMS_BACKEND = "dajiuzhu.core.sms.RecordingSmsBackend"
    RecordingSmsBackend.outbox.clear()
    yield RecordingSmsBackend.outbox


@pytest.fixture(autouse=True)
def _care_stream_once(settings):
    """The care console's event stream polls once and ends (the browser would reconnect)."""
    settings.CARE_STREAM_SECONDS = 0


@pytest.fixture
def sms_outbox(_recording_sms):
    return _recording_sms


@pytest.fixture(autouse=True)
def lake(tmp_path, settings):
    path = tmp_path / "lake"
    path.mkdir()
    settings.LAKE_DIR = path
    return path


@pytest.fixture(autouse=True)
def audit_checkpoints(tmp_path, settings):
    """Each test's audit checkpoints in a file of its own: the database rolls back after a
    test, a shared file would keep heads that no longer exist."""
    path = tmp_path / "audit" / "checkpoints.jsonl"
    settings.AUDIT_CHECKPOINT_FILE = path
    return path


@pytest.fixture
def tn_admin_legacy(db):
    return make_legacy_admin("tn_admin_legacy", "320402")


@pytest.fixture
def tn_clerk(db):
    return make_user("tn_clerk", Role.WINDOW_CLERK, "320402")


@pytest.fixture
def tn_caseworker(db):
    return make_user("tn_caseworker", Role.CASEWORKER, "320402")


@pytest.fixture
def wj_caseworker(db):
    return make_user("wj_caseworker", Role.CASEWORKER, "320412")


@pytest.fixture
def wj_clerk(db):
    return make_user("wj_clerk", Role.WINDOW_CLERK, "320412")


@pytest.fixture
def city_admin(db):
    return make_user("city_admin", Role.ADMIN, "320400")


@pytest.fixture
def outsider(db):
    """A staff user of 溧阳市 with no business in 天宁区 or 武进区."""
    return make_user("ly_clerk", Role.WINDOW_CLERK, "320481")


@pytest.fixture
def steward_yibao(db):
    return make_user("steward_yibao", Role.DATA_STEWARD, "320400", "yibao")


@pytest.fixture
def tn_household(db):
    return make_household("320402001")


@pytest.fixture
def wj_household(db):
    return make_household("320412001")


# Real pages in Debian's chromium through Playwright (never a downloaded browser): the
# fixtures every browser test uses (mark the module ``browser`` and ``xdist_group("browser")``).
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def browser():
    require(shutil.which(CHROMIUM) is not None, "Debian's chromium is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the dev extra installs it
        require(False, "playwright is not installed")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # ORM set-up runs beside Playwright's loop
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def site(live_server, settings, transactional_db):
    settings.SESSION_COOKIE_SECURE = False  # the live server speaks plain HTTP on loopback
    settings.CSRF_COOKIE_SECURE = False
    reference_data_load()
    return live_server.url


@pytest.fixture
def family(db):
    """The household check's small, exactly known family (tests/factories/verification.py)."""
    from tests.factories.verification import load_family

    return load_family()


@pytest.fixture
def complete_family(db):
    """The family with every source loaded and reaching 2023-08."""
    from tests.factories.verification import load_family

    return load_family(complete=True)


def screenshot(page, path: str) -> None:
    """A full-page screenshot for people to look at (build/ or docs/screenshots/). Headless
    Chromium under load now and then answers "Unable to capture screenshot": try again after a
    moment rather than fail a test whose assertions all held."""
    from playwright.sync_api import Error

    for attempt in range(3):
        try:
            page.screenshot(path=path, full_page=True)
            return
        except Error as exc:
            if "Unable to capture screenshot" not in str(exc) or attempt == 2:
                raise
            page.wait_for_timeout(500)
