"""Personas of the case workflow: a window clerk of 武进区 (全城办: takes a 天宁区 resident's
application), the grid worker and caseworker of the applicant's town in 天宁区, the district
approver of 民政, a resident with a phone, and an outsider of 溧阳市."""

from __future__ import annotations

from datetime import date

import pytest

from dajiuzhu.cases.services import Upload
from dajiuzhu.core import crypto
from dajiuzhu.core.roles import Role
from tests.factories.accounts import make_user
from tests.factories.registry import make_household

TOWN = "320402001"
PDF = b"%PDF-1.4\n% signed authorisation\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def household(db):
    household, people = make_household(TOWN, members=2)
    return household, people


@pytest.fixture
def clerk_wj(db):
    return make_user("clerk_wj", Role.WINDOW_CLERK, "320412001")


@pytest.fixture
def grid(db):
    from dajiuzhu.core.models import Division
    from dajiuzhu.core.services import division_create

    if not Division.objects.filter(code=f"{TOWN}001").exists():
        division_create(actor=None, parent_code=TOWN, code=f"{TOWN}001", name="测试社区")
    return make_user("grid_tn", Role.GRID_WORKER, f"{TOWN}001")


@pytest.fixture
def caseworker(db):
    return make_user("cw_tn", Role.CASEWORKER, TOWN)


@pytest.fixture
def approver(db):
    return make_user("ap_tn", Role.APPROVER, "320402", "minzheng")


@pytest.fixture
def approver2(db):
    return make_user("ap2_tn", Role.APPROVER, "320402", "minzheng")


@pytest.fixture
def outsider_ly(db):
    return make_user("ly_cw", Role.CASEWORKER, "320481")


def id_number_of(person) -> str:
    return crypto.decrypt(person.id_number_enc, field="person.id_number")


def paper_for(people) -> dict:
    return {p.pk: Upload(name=f"auth-{p.pk}.pdf", data=PDF) for p in people}


def submit_window(clerk, people, programmes=("dibao",), **kwargs):
    from dajiuzhu.cases.services import application_submit

    return application_submit(
        actor=clerk,
        channel="window",
        id_number=id_number_of(people[0]),
        programmes=list(programmes),
        paper_authorisations=paper_for(people),
        commitment=True,
        **kwargs,
    )


__all__ = ["PDF", "PNG", "TOWN", "date", "id_number_of", "paper_for", "submit_window"]
