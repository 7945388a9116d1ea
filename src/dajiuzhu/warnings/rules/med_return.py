"""因病返贫 MED_RETURN: a person holding a 特困, 低保, 低边 or 支出型 status on any day of Y
whose out-of-pocket settled in Y sums to more than the threshold (10,000 yuan, the policy
parameter ``warnings.med_return_threshold``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dajiuzhu.warnings.programmes import programme_label
from dajiuzhu.warnings.rules.common import (
    MONEY,
    STATUS_PROGRAMMES,
    RuleContext,
    medical_evidence,
    money,
    no_date,
    no_ref,
    spend,
)
from dajiuzhu.warnings.rulespec import Fact, RuleSpec, plain

if TYPE_CHECKING:
    import ibis.expr.types as ir


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


def headline(e: dict[str, str], year: int) -> str:
    return f"{year}年个人自负合计 {e.get('out_of_pocket', '—')} 元"


SPEC = RuleSpec(
    code="MED_RETURN",
    label="因病返贫",
    datasets=("medical_claims", "assistance_recipients", "hukou"),
    driver="medical_claims",
    driver_date="settlement_date",
    parameters=("med_return_threshold",),
    medical=True,
    findings=findings,
    evidence=evidence,
    limit="med_return_threshold",
    no_longer="已不是{year}年特困、低保、低边或支出型救助对象",
    facts=(
        Fact("out_of_pocket", "年度个人自负合计(元)"),
        Fact("threshold", "因病返贫阈值(元/年)"),
        Fact(
            "programmes",
            "持有的救助身份",
            show=lambda codes: "、".join(programme_label(p) for p in codes) or "—",
        ),
    ),
    headline=headline,
    lake_evidence=medical_evidence,
)
