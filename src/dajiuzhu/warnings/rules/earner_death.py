"""主要劳动力去世 EARNER_DEATH: a death in Y of a person aged 18–59 on the day of death whose
wages over the 12 calendar months before the month of death were the largest in the household
and at least half of the household's total, where another member remains.

The household is the deceased's 户籍 household (``hukou.household_no``); its members are the
persons the 户籍 dataset lists in it, leaving out those who moved out. "Largest" allows a tie;
a household with no wages at all has no main earner. A member *remains* when not moved out and
not dead on or before the day of this death (a member marked deceased in 户籍 without a death
record counts as gone).
"""

from __future__ import annotations

import functools
import operator
from decimal import Decimal
from typing import TYPE_CHECKING

from dajiuzhu.analytics.summary_specs import MONTHS
from dajiuzhu.warnings.rules.common import (
    MONEY,
    RuleContext,
    age_on,
    date_month_index,
    event_evidence,
    money,
    no_amount,
    no_ref,
)
from dajiuzhu.warnings.rulespec import Fact, LakeEvidence, RuleSpec, plain

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from dajiuzhu.analytics.engine import Lake
    from dajiuzhu.warnings.models import Warning

WORKING_AGE = (18, 59)


def deceased(ctx: RuleContext) -> ir.Table:
    """Deaths in the year of persons aged 18–59, with their 户籍 household."""
    deaths = ctx.restrict(ctx.lake.table("deaths"))
    deaths = deaths.filter(ctx.in_year(deaths.death_date))
    hukou = ctx.lake.summary("hukou_by_person", deaths.select("person_key"))
    people = hukou.select(
        person_key=hukou.person_key, birth_date=hukou.birth_date, household_no=hukou.household_no
    )
    dead = deaths.join(people, "person_key")
    dead = dead.mutate(
        ev_age=age_on(dead.death_date, dead.birth_date),
        death_month=date_month_index(dead.death_date),
    )
    return dead.filter(dead.ev_age.between(*WORKING_AGE)).select(
        "person_key", "household_no", "death_date", "death_month", "ev_age"
    )


def households(ctx: RuleContext, dead: ir.Table) -> ir.Table:
    """Each deceased's household members (themself included), not moved out (one pass)."""
    hukou = ctx.lake.table("hukou")
    members = hukou.filter(hukou.status != "moved_out").select(
        member_key=hukou.person_key, household_no=hukou.household_no, member_status=hukou.status
    )
    return dead.join(members, "household_no")


def member_wages(ctx: RuleContext, homes: ir.Table) -> ir.Table:
    """Per deceased and household member: the wages of the 12 calendar months before the
    month of death (members without a wage row in those months are left out).

    The wages come one row per member and year (the lake's ``wages_by_year`` summary, months
    ``m01``…``m12``), so that only the members' rows are read, not the city's wage lines."""
    import ibis

    members = homes.select(person_key=homes.member_key).distinct()
    yearly = ctx.lake.summary("wages_by_year", members).rename(member_key="person_key")
    paid = homes.join(yearly, "member_key")
    first = paid.death_month - 12
    last = paid.death_month - 1
    # base + m is the month index (year * 12 + month - 1) of month m of the row's year
    base = paid.year.cast("int64") * 12 - 1
    counted = [
        ((base + m).between(first, last)) & paid[name].notnull()
        for m, name in enumerate(MONTHS, start=1)
    ]
    paid = paid.mutate(
        earned=functools.reduce(
            operator.add,
            [
                ibis.ifelse(flag, paid[name], money(Decimal(0)))
                for flag, name in zip(counted, MONTHS, strict=True)
            ],
        ).cast(MONEY),
        counted=functools.reduce(operator.or_, counted),
    )
    paid = paid.filter(paid.counted)
    return paid.group_by(["person_key", "member_key"]).aggregate(earned=paid.earned.sum())


def findings(ctx: RuleContext) -> ir.Table:
    import ibis

    lake = ctx.lake
    # The intermediates are small (a year's deaths, their households, the members' wages) and
    # each is used twice; materialising the wages also keeps the final query small to compile
    # (its twelve months are a large expression).
    dead = ctx.shared("earner_dead", lambda: deceased(ctx))
    homes = ctx.shared("earner_households", lambda: households(ctx, dead))
    per_member = ctx.shared("earner_member_wages", lambda: member_wages(ctx, homes))
    per_household = per_member.group_by("person_key").aggregate(
        household_total=per_member.earned.sum(), top=per_member.earned.max()
    )
    own = per_member.filter(per_member.member_key == per_member.person_key).select(
        "person_key", own=per_member.earned
    )
    earners = own.join(per_household, "person_key")
    earners = earners.filter(
        earners.household_total > 0,
        earners.own >= earners.top,
        earners.own * 2 >= earners.household_total,
    )

    all_deaths = lake.table("deaths")
    later = all_deaths.select(member_key=all_deaths.person_key, member_death=all_deaths.death_date)
    others = homes.filter(homes.member_key != homes.person_key)
    others = others.left_join(later, others.member_key == later.member_key)
    alive = others.filter(
        ibis.ifelse(
            others.member_death.isnull(),
            others.member_status != "deceased",
            others.member_death > others.death_date,
        )
    )
    remaining = alive.group_by("person_key").aggregate(ev_remaining=alive.count())

    found = dead.join(earners, "person_key").join(remaining, "person_key")
    return found.select(
        person_key=found.person_key,
        event_ref=no_ref(),
        event_date=found.death_date,
        amount=no_amount(),
        ev_age=found.ev_age,
        ev_wages=found.own,
        ev_household_wages=found.household_total,
        ev_remaining=found.ev_remaining.cast("int64"),
    )


def evidence(row: dict) -> dict:
    return {
        "death_date": plain(row["event_date"]),
        "age": row["ev_age"],
        "wages_12_months": plain(row["ev_wages"]),
        "household_wages_12_months": plain(row["ev_household_wages"]),
        "remaining_members": row["ev_remaining"],
    }


def headline(e: dict[str, str], year: int) -> str:
    return f"{e.get('death_date', '')} 去世,享年{e.get('age', '')}岁,家庭主要收入来源"


def lake_evidence(lake: Lake, w: Warning) -> LakeEvidence:
    """The death record."""
    return event_evidence(lake, w, dataset="deaths", columns=["death_date", "reported_at"])


SPEC = RuleSpec(
    code="EARNER_DEATH",
    label="主要劳动力去世",
    datasets=("deaths", "hukou", "wages"),
    driver="deaths",
    driver_date="death_date",
    realtime="deaths",
    summaries=("hukou_by_person", "wages_by_year"),
    findings=findings,
    evidence=evidence,
    no_longer="死亡、户籍或工资数据更正后,已不符合主要劳动力去世的条件",
    facts=(
        Fact("death_date", "死亡日期"),
        Fact("age", "去世时年龄"),
        Fact("wages_12_months", "去世前12个月缴费工资(元)"),
        Fact("household_wages_12_months", "同期家庭缴费工资合计(元)"),
        Fact("remaining_members", "在户其他成员(人)"),
    ),
    headline=headline,
    lake_evidence=lake_evidence,
    export_person_as_ref=True,
)
