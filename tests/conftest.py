"""Shared fixtures: reference data once per test database, persona users, small factories.

Personas (STYLE.md): a window clerk of 天宁区, a caseworker of 武进区, a resident, an outsider.
"""

from __future__ import annotations

import itertools
import os
from datetime import date

import pytest
from django.test import Client

from dajiuzhu.core.idnumber import make_id_number
from dajiuzhu.core.reference import reference_data_load
from dajiuzhu.core.roles import Role

PASSWORD = "Test-password-2023"
REQUIRE_ALL = os.environ.get("DAJIUZHU_REQUIRE_ALL") == "1"
_seq = itertools.count(100)


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


@pytest.fixture
def sms_outbox(_recording_sms):
    return _recording_sms


@pytest.fixture(autouse=True)
def lake(tmp_path, settings):
    path = tmp_path / "lake"
    path.mkdir()
    settings.LAKE_DIR = path
    return path


def make_user(username: str, role: str, scope: str | None, department: str | None = None):
    from dajiuzhu.core.services import user_create

    return user_create(
        actor=None,
        username=username,
        password=PASSWORD,
        role=role,
        scope_code=scope,
        department_code=department,
        check_password=False,
    )


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


def client_for(user) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def new_id_number(region: str = "320402", birth: date = date(1980, 5, 17)) -> str:
    return make_id_number(region, birth, next(_seq) % 1000)


def make_household(town: str = "320402001", *, members: int = 2, household_no: str | None = None):
    """A household with a head and members in a community of ``town``."""
    from dajiuzhu.core.models import Division
    from dajiuzhu.registry.services import household_create, membership_add, person_create

    community_code = f"{town}001"
    if not Division.objects.filter(code=community_code).exists():
        from dajiuzhu.core.services import division_create

        division_create(actor=None, parent_code=town, code=community_code, name="测试社区")
    household = household_create(
        actor=None, household_no=household_no or f"H{next(_seq):06d}", division_code=community_code
    )
    people = []
    for i in range(members):
        person = person_create(
            actor=None,
            id_number=new_id_number(town[:6], date(1960 + 10 * i, 3, 1)),
            name=f"测试{'甲乙丙丁戊'[i % 5]}{next(_seq)}",
            hukou_division_code=community_code,
            phone=f"1390000{next(_seq):04d}",
        )
        membership_add(
            actor=None,
            household=household,
            person=person,
            relation="head" if i == 0 else "child",
            start_date=date(2010, 1, 1),
        )
        people.append(person)
    return household, people


@pytest.fixture
def tn_household(db):
    return make_household("320402001")


@pytest.fixture
def wj_household(db):
    return make_household("320412001")
