"""因病返贫 MED_RETURN: a person holding a 特困, 低保, 低边 or 支出型 status on any day of Y
whose out-of-pocket settled in Y sums to more than the threshold (10,000 yuan, the policy
parameter ``warnings.med_return_threshold``)."""

from __future__ import annotations

import ibis.expr.types as ir

from dajiuzhu.warnings.rules import RuleSpec, plain
from dajiuzhu.warnings.rules.common import (
    MONEY,
    STATUS_PROGRAMMES,
    RuleContext,
    money,
    no_date,
    no_ref,
    spend,
)


def held_status(ctx: RuleContext) -> ir.Table:
    """Persons holding one of the statuses on any day of the year, one flag per programme."""
    recipients = ctx.restrict(ctx.lake.table("assistance_recipients"))
    held = recipients.filter(
        recipients.program_code.isin(STATUS_PROGRAMMES),
        recipients.start_date <= ctx.end,
        recipients.end_date.isnull() | (recipients.end_date >= ctx.start),
    )
    return held.group_by("person_key").aggregate(
        **{f"ev_{code}": (held.program_code == code).any() for code in STATUS_PROGRAMMES}
    )


def findings(ctx: RuleContext) -> ir.Table:
    spent = spend(ctx)
    over = spent.filter(spent.out_of_pocket > money(ctx.med_return_threshold))
    joined = over.join(held_status(ctx), "person_key")
    return joined.select(
        person_key=joined.person_key,
        event_ref=no_ref(),
        event_date=no_date(),
        amount=joined.out_of_pocket.cast(MONEY),
        ev_threshold=money(ctx.med_return_threshold),
        **{f"ev_{code}": joined[f"ev_{code}"] for code in STATUS_PROGRAMMES},
    )


def evidence(row: dict) -> dict:
    return {
        "out_of_pocket": plain(row["amount"]),
        "threshold": plain(row["ev_threshold"]),
        "programmes": [code for code in STATUS_PROGRAMMES if row[f"ev_{code}"]],
    }


SPEC = RuleSpec(
    code="MED_RETURN",
    label="因病返贫",
    datasets=("medical_claims", "assistance_recipients", "hukou"),
    driver="medical_claims",
    driver_date="settlement_date",
    realtime=None,
    findings=findings,
    evidence=evidence,
    medical=True,
)
