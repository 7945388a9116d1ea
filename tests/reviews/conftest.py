"""Personas of 复核 in 天宁区 茶山街道 (the check's known family lives there)."""

from __future__ import annotations

import pytest

from dajiuzhu.core.roles import Role
from tests.factories.accounts import make_user

TOWN = "320402003"


@pytest.fixture
def caseworker(db):
    return make_user("cw_cs", Role.CASEWORKER, TOWN)


@pytest.fixture
def approver(db):
    return make_user("ap_tn", Role.APPROVER, "320402", "minzheng")


@pytest.fixture
def grid(db):
    from dajiuzhu.core.models import Division
    from dajiuzhu.core.services import division_create

    if not Division.objects.filter(code=f"{TOWN}001").exists():
        division_create(actor=None, parent_code=TOWN, code=f"{TOWN}001", name="测试社区")
    return make_user("grid_cs", Role.GRID_WORKER, f"{TOWN}001")


@pytest.fixture
def outsider(db):
    return make_user("ly_cw", Role.CASEWORKER, "320481")
