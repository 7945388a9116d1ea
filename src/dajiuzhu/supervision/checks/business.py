"""家庭成员经营企业 BUSINESS: a ``dibao`` payment where a member of the household is ``legal_rep``
or ``shareholder`` of a business with status ``active``. One finding per payment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dajiuzhu.supervision.checks.common import CheckContext, household_assets, per_payment
from dajiuzhu.supervision.checkspec import CheckSpec, EvidenceSource, plain

if TYPE_CHECKING:
    import ibis.expr.types as ir

ROLES = ("legal_rep", "shareholder")


def findings(ctx: CheckContext) -> ir.Table:
    pay = ctx.payments()
    pay = pay.filter(pay.program_code == "dibao")
    b = ctx.lake.table("businesses")
    held = b.filter(b.role.isin(ROLES), b.status == "active").select(
        member_key=b.person_key, credit_code=b.credit_code
    )
    found = household_assets(ctx, pay, held, "credit_code")
    return per_payment(found, ev_businesses=found.ev_count.cast("int64"))


def evidence(row: dict) -> dict[str, str]:
    return {"businesses": plain(row["ev_businesses"])}


SPEC = CheckSpec(
    code="BUSINESS",
    label="家庭成员经营企业",
    description="低保发放,领取人户籍家庭成员是存续企业的法定代表人或股东",
    datasets=("assistance_payments", "hukou", "businesses"),
    findings=findings,
    evidence=evidence,
    facts={"businesses": "家庭成员任法定代表人或股东的存续企业(户)"},
    sources=(EvidenceSource("businesses", who="household", where={"status": ("active",)}),),
    no_longer="市场主体登记或户籍已更正,家庭成员已不在存续企业任职或持股",
)
