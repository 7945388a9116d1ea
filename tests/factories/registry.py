"""Persons and households in the registry for tests."""

from __future__ import annotations

import itertools
from datetime import date

from dajiuzhu.core.idnumber import make_id_number

_seq = itertools.count(100)


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
