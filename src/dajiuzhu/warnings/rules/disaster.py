"""安全事故和自然灾害 DISASTER: a person in an incident dated in Y with loss level serious,
major or catastrophic (one warning per incident and person)."""

from __future__ import annotations

import ibis.expr.types as ir

from dajiuzhu.warnings.rules import RuleSpec, plain
from dajiuzhu.warnings.rules.common import RuleContext, no_amount

SEVERE_LOSSES = ("serious", "major", "catastrophic")


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


SPEC = RuleSpec(
    code="DISASTER",
    label="安全事故和自然灾害",
    datasets=("incidents", "hukou"),
    driver="incidents",
    driver_date="incident_date",
    realtime="incidents",
    findings=findings,
    evidence=evidence,
    event_column="incident_id",
)
