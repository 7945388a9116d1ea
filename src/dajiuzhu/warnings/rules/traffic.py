"""交通事故 TRAFFIC: a person with injury serious or fatal in a traffic accident dated in Y
(one warning per accident and person)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dajiuzhu.warnings.rules.common import RuleContext, event_evidence, no_amount
from dajiuzhu.warnings.rulespec import Fact, LakeEvidence, RuleSpec, plain

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from dajiuzhu.analytics.engine import Lake
    from dajiuzhu.warnings.models import Warning

SEVERE_INJURIES = ("serious", "fatal")
INJURY_LABELS = {"none": "未受伤", "minor": "轻伤", "serious": "重伤", "fatal": "死亡"}


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


def headline(e: dict[str, str], year: int) -> str:
    injury = INJURY_LABELS.get(e.get("injury", ""), e.get("injury", ""))
    return f"{e.get('accident_date', '')} 交通事故,伤情:{injury}"


def lake_evidence(lake: Lake, w: Warning) -> LakeEvidence:
    """The accident's rows."""
    return event_evidence(lake, w, dataset="traffic_accidents", match="accident_id")


SPEC = RuleSpec(
    code="TRAFFIC",
    label="交通事故",
    datasets=("traffic_accidents", "hukou"),
    driver="traffic_accidents",
    driver_date="accident_date",
    event_column="accident_id",
    realtime="traffic_accidents",
    findings=findings,
    evidence=evidence,
    facts=(
        Fact("accident_date", "事故日期"),
        Fact("injury", "伤情", values=INJURY_LABELS),
    ),
    headline=headline,
    lake_evidence=lake_evidence,
    event_values={"injury": INJURY_LABELS},
)
