"""安全事故和自然灾害 DISASTER: a person in an incident dated in Y with loss level serious,
major or catastrophic (one warning per incident and person)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dajiuzhu.warnings.rules.common import RuleContext, event_evidence, no_amount
from dajiuzhu.warnings.rulespec import Fact, LakeEvidence, RuleSpec, plain

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from dajiuzhu.analytics.engine import Lake
    from dajiuzhu.warnings.models import Warning

SEVERE_LOSSES = ("serious", "major", "catastrophic")
KIND_LABELS = {
    "fire": "火灾",
    "flood": "洪涝",
    "typhoon": "台风",
    "earthquake": "地震",
    "production_safety": "安全生产事故",
    "other": "其他灾害事故",
}
LOSS_LABELS = {"minor": "轻微", "serious": "较重", "major": "重大", "catastrophic": "特别重大"}


def findings(ctx: RuleContext) -> ir.Table:
    incidents = ctx.restrict(ctx.lake.table("incidents"))
    hit = incidents.filter(
        ctx.in_year(incidents.incident_date), incidents.loss_level.isin(SEVERE_LOSSES)
    )
    return hit.select(
        person_key=hit.person_key,
        event_ref=hit.incident_id,
        event_date=hit.incident_date,
        amount=no_amount(),
        ev_kind=hit.kind,
        ev_loss_level=hit.loss_level,
        ev_loss_amount=hit.loss_amount,
    )


def evidence(row: dict) -> dict:
    return {
        "incident_date": plain(row["event_date"]),
        "kind": row["ev_kind"],
        "loss_level": row["ev_loss_level"],
        "loss_amount": plain(row["ev_loss_amount"]),
    }


def headline(e: dict[str, str], year: int) -> str:
    kind = KIND_LABELS.get(e.get("kind", ""), "")
    level = LOSS_LABELS.get(e.get("loss_level", ""), e.get("loss_level", ""))
    return f"{e.get('incident_date', '')} {kind},损失程度:{level}"


def lake_evidence(lake: Lake, w: Warning) -> LakeEvidence:
    """The incident's rows."""
    return event_evidence(lake, w, dataset="incidents", match="incident_id")


SPEC = RuleSpec(
    code="DISASTER",
    label="安全事故和自然灾害",
    datasets=("incidents", "hukou"),
    driver="incidents",
    driver_date="incident_date",
    event_column="incident_id",
    realtime="incidents",
    findings=findings,
    evidence=evidence,
    facts=(
        Fact("incident_date", "发生日期"),
        Fact("kind", "类型", values=KIND_LABELS),
        Fact("loss_level", "损失程度", values=LOSS_LABELS),
        Fact("loss_amount", "损失金额(元)"),
    ),
    headline=headline,
    lake_evidence=lake_evidence,
    event_values={"kind": KIND_LABELS, "loss_level": LOSS_LABELS},
)
