"""家庭多套住房 PROPERTY: a ``dibao`` payment where the members of the household together hold in M
more than one ``residential`` property (distinct ``property_id``). One finding per payment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dajiuzhu.supervision.checks.common import CheckContext, household_assets, per_payment
from dajiuzhu.supervision.checkspec import CheckSpec, EvidenceSource, plain

if TYPE_CHECKING:
    import ibis.expr.types as ir


def findings(ctx: CheckContext) -> ir.Table:
    pay = ctx.payments()
    pay = pay.filter(pay.program_code == "dibao")
    r = ctx.lake.table("real_estate")
    held = r.filter(r.usage == "residential", ctx.held_in_month(r)).select(
        member_key=r.person_key, property_id=r.property_id
    )
    found = household_assets(ctx, pay, held, "property_id")
    found = found.filter(found.ev_count > 1)
    return per_payment(found, ev_properties=found.ev_count.cast("int64"))


def evidence(row: dict) -> dict[str, str]:
    return {"properties": plain(row["ev_properties"])}


SPEC = CheckSpec(
    code="PROPERTY",
    label="家庭多套住房",
    description="低保发放,领取人户籍家庭成员当月合计持有一套以上住宅",
    datasets=("assistance_payments", "hukou", "real_estate"),
    findings=findings,
    evidence=evidence,
    facts={"properties": "家庭成员合计持有住宅(套)"},
    sources=(EvidenceSource("real_estate", who="household", where={"usage": ("residential",)}),),
    no_longer="不动产登记或户籍已更正,家庭当月已不持有一套以上住宅",
)
