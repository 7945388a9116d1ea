"""The demo population. Until the synthetic generator lands, a handful of households."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from dajiuzhu.core.idnumber import make_id_number
from dajiuzhu.registry.models import Household
from dajiuzhu.registry.services import category_add, household_create, membership_add, person_create
from dajiuzhu.synth.demo import ensure_community

HANDFUL = [
    # (town, community no, community name, household no,
    #  members [(name, birth, seq, relation)], categories [(member, category, start)])
    (
        "320402001",
        1,
        "雕庄社区",
        "TN0001",
        [("王建国", date(1958, 3, 14), 11, "head"), ("李秀英", date(1960, 7, 2), 22, "spouse")],
        [(0, "dibao", date(2022, 9, 1)), (1, "severe_disability", date(2021, 5, 10))],
    ),
    (
        "320402001",
        1,
        "雕庄社区",
        "TN0002",
        [("陈桂兰", date(1941, 11, 30), 32, "head")],
        [(0, "tekun", date(2020, 1, 1)), (0, "elderly_alone", date(2020, 1, 1))],
    ),
    (
        "320402005",
        1,
        "天宁社区",
        "TN0003",
        [
            ("刘伟", date(1985, 6, 18), 41, "head"),
            ("张丽", date(1987, 2, 9), 52, "spouse"),
            ("刘子涵", date(2015, 9, 1), 61, "child"),
        ],
        [(0, "zhichu", date(2023, 3, 1))],
    ),
    (
        "320412001",
        1,
        "湖塘社区",
        "WJ0001",
        [("周志强", date(1970, 1, 21), 71, "head"), ("吴芳", date(1972, 4, 5), 82, "spouse")],
        [(0, "dibian", date(2023, 1, 1))],
    ),
    (
        "320412001",
        1,
        "湖塘社区",
        "WJ0002",
        [("孙小红", date(2010, 8, 16), 92, "head")],
        [(0, "orphan", date(2018, 6, 1))],
    ),
]


@transaction.atomic
def demo_population(*, persons: int, seed: int) -> int:
    """Create the handful of demo households once. Returns how many were created."""
    if Household.objects.filter(household_no="TN0001").exists():
        return 0
    created = 0
    for town, number, cname, hh_no, members, cats in HANDFUL:
        community = ensure_community(town, number, cname)
        hh = household_create(
            actor=None,
            household_no=hh_no,
            division_code=community.code,
            address=f"{community.name}{created + 1}号",
        )
        people = []
        for name, birth, seq, relation in members:
            person = person_create(
                actor=None,
                id_number=make_id_number(town[:6], birth, seq),
                name=name,
                hukou_division_code=community.code,
                phone=f"139{seq:08d}",
            )
            membership_add(
                actor=None,
                household=hh,
                person=person,
                relation=relation,
                start_date=date(2000, 1, 1) if birth.year < 2000 else birth,
            )
            people.append(person)
        for idx, cat, start in cats:
            category_add(actor=None, person=people[idx], category=cat, start_date=start)
        created += 1
    return created
