"""死亡后仍发放 PAID_AFTER_DEATH: the payee's ``death_date`` (the ``deaths`` dataset) is before the
first day of M. A payment for the month of death is not a finding. One finding per payment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dajiuzhu.supervision.checks.common import CheckContext, per_payment
from dajiuzhu.supervision.checkspec import CheckSpec, EvidenceSource, plain

if TYPE_CHECKING:
    import ibis.expr.types as ir


def findings(ctx: CheckContext) -> ir.Table:
    deaths = ctx.lake.table("deaths")
    died = deaths.select(person_key=deaths.person_key, death_date=deaths.death_date)
    paid = ctx.payments().join(died, "person_key")
    paid = paid.filter(paid.death_date < ctx.lit(ctx.first_day))
    return per_payment(paid, ev_death_date=paid.death_date)


def evidence(row: dict) -> dict[str, str]:
    return {"death_date": plain(row["ev_death_date"])}


SPEC = CheckSpec(
    code="PAID_AFTER_DEATH",
    label="死亡后仍发放",
    description="领取人死亡日期早于发放所属月份的第一天(死亡当月的发放不计)",
    datasets=("assistance_payments", "deaths"),
    findings=findings,
    evidence=evidence,
    facts={"death_date": "死亡日期"},
    sources=(EvidenceSource("deaths"),),
    no_longer="死亡登记已更正或撤回,已不属于死亡后发放",
)
