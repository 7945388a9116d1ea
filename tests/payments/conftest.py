"""Personas of payments: the 天宁区 caseworker who prepares rosters and the approver who
releases them (two people), a second approver, a town caseworker (towns do not pay), the
武进区 caseworker (another district), and approved cases of 天宁区 and 武进区."""

from __future__ import annotations

import pytest

from dajiuzhu.core.roles import Role
from tests.factories.accounts import make_user


@pytest.fixture
def preparer(db):
    return make_user("pay_cw_tn", Role.CASEWORKER, "320402", "minzheng")


@pytest.fixture
def approver(db):
    return make_user("pay_ap_tn", Role.APPROVER, "320402", "minzheng")


@pytest.fixture
def town_caseworker(db):
    return make_user("pay_cw_town", Role.CASEWORKER, "320402001")


@pytest.fixture
def wj_preparer(db):
    return make_user("pay_cw_wj", Role.CASEWORKER, "320412", "minzheng")
