"""重复发放 DUPLICATE_PAYMENT: two or more payments (distinct ``payment_id``) to one person for one
programme and month. One finding per person, programme and month; ``payment_id`` empty;
``amount`` the sum."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dajiuzhu.supervision.checks.common import MONEY, CheckContext, no_ref
from dajiuzhu.supervision.checkspec import CheckSpec, plain

if TYPE_CHECKING:
    import ibis.expr.types as ir


def findings(ctx: CheckContext) -> ir.Table:
    pay = ctx.payments()
    per = pay.group_by(["person_key", "program_code"]).aggregate(
        ev_payments=pay.payment_id.nunique(), total=pay.amount.sum()
    )
    per = per.filter(per.ev_payments >= 2)
    return per.select(
        person_key=per.person_key,
        program_code=per.program_code,
        payment_id=no_ref(),
        amount=per.total.cast(MONEY),
        ev_payments=per.ev_payments.cast("int64"),
    )


def evidence(row: dict) -> dict[str, str]:
    return {"payments": plain(row["ev_payments"]), "total": plain(row["amount"])}


SPEC = CheckSpec(
    code="DUPLICATE_PAYMENT",
    label="重复发放",
    description="同一人同一项目同一月份有两笔及以上发放(发放流水号不同)",
    datasets=("assistance_payments",),
    findings=findings,
    evidence=evidence,
    facts={"payments": "当月发放笔数", "total": "合计金额(元)"},
    no_longer="重复的发放记录已更正或撤回",
)
