"""无审批记录 NO_APPROVAL: a payment under ``dibao``, ``dibian``, ``tekun`` or ``zhichu`` with no
``assistance_recipients`` record of the same person and programme whose period (``start_date``
to ``end_date``, open while empty) overlaps M. One finding per payment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dajiuzhu.supervision.checks.common import CheckContext, per_payment
from dajiuzhu.supervision.checkspec import CheckSpec, EvidenceSource, plain

if TYPE_CHECKING:
    import ibis.expr.types as ir

APPROVED_PROGRAMMES = ("dibao", "dibian", "tekun", "zhichu")


def findings(ctx: CheckContext) -> ir.Table:
    pay = ctx.payments()
    pay = pay.filter(pay.program_code.isin(APPROVED_PROGRAMMES))
    rec = ctx.lake.table("assistance_recipients")
    current = rec.filter(
        rec.start_date <= ctx.lit(ctx.last_day),
        rec.end_date.isnull() | (rec.end_date >= ctx.lit(ctx.first_day)),
    ).select("person_key", "program_code")
    unapproved = pay.anti_join(current, ["person_key", "program_code"])
    return per_payment(unapproved, ev_paid_date=unapproved.paid_date)


def evidence(row: dict) -> dict[str, str]:
    return {"paid_date": plain(row["ev_paid_date"])}


SPEC = CheckSpec(
    code="NO_APPROVAL",
    label="无审批记录发放",
    description="低保、低边、特困、支出型救助的发放,在救助对象库中没有该人该项目覆盖当月的记录",
    datasets=("assistance_payments", "assistance_recipients"),
    findings=findings,
    evidence=evidence,
    facts={"paid_date": "发放日期"},
    sources=(EvidenceSource("assistance_recipients"),),
    no_longer="救助对象记录已补录或发放记录已更正",
)
