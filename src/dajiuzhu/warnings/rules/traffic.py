"""交通事故 TRAFFIC: a person with injury serious or fatal in a traffic accident dated in Y
(one warning per accident and person)."""

from __future__ import annotations

import ibis.expr.types as ir

from dajiuzhu.warnings.rules import RuleSpec, plain
from dajiuzhu.warnings.rules.common import RuleContext, no_amount

SEVERE_INJURIES = ("serious", "fatal")


def findings(ctx: RuleContext) -> ir.Table:
    accidents = ctx.restrict(ctx.lake.table("traffic_accidents"))
    hurt = accidents.filter(
        ctx.in_year(accidents.accident_date), accidents.injury.isin(SEVERE_INJURIES)
    )
    return hurt.select(
        person_key=hurt.person_key,
        event_ref=hurt.accident_id,
        event_date=hurt.accident_date,
        amount=no_amount(),
        ev_injury=hurt.injury,
    )


def evidence(row: dict) -> dict:
    return {"accident_date": plain(row["event_date"]), "injury": row["ev_injury"]}


SPEC = RuleSpec(
    code="TRAFFIC",
    label="交通事故",
    datasets=("traffic_accidents", "hukou"),
    driver="traffic_accidents",
    driver_date="accident_date",
    realtime="traffic_accidents",
    findings=findings,
    evidence=evidence,
    event_column="accident_id",
)
