"""特困与低保重复享受 EXCLUSIVE: one person paid for month M under both ``tekun`` and ``dibao`` (a
特困 person is supported under 特困, not also under 低保). One finding per person and month;
``program_code`` empty; ``amount`` the sum of both."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dajiuzhu.supervision.checks.common import MONEY, CheckContext, no_ref
from dajiuzhu.supervision.checkspec import CheckSpec, plain

if TYPE_CHECKING:
    import ibis.expr.types as ir

EXCLUSIVE = ("tekun", "dibao")


def findings(ctx: CheckContext) -> ir.Table:
    pay = ctx.payments()
    pay = pay.filter(pay.program_code.isin(EXCLUSIVE))
    per = pay.group_by("person_key").aggregate(
        programmes=pay.program_code.nunique(),
        total=pay.amount.sum(),
        ev_tekun=pay.amount.sum(where=pay.program_code == "tekun"),
        ev_dibao=pay.amount.sum(where=pay.program_code == "dibao"),
    )
    per = per.filter(per.programmes == len(EXCLUSIVE))
    return per.select(
        person_key=per.person_key,
        program_code=no_ref(),
        payment_id=no_ref(),
        amount=per.total.cast(MONEY),
        ev_tekun=per.ev_tekun.cast(MONEY),
        ev_dibao=per.ev_dibao.cast(MONEY),
    )


def evidence(row: dict) -> dict[str, str]:
    return {"tekun": plain(row["ev_tekun"]), "dibao": plain(row["ev_dibao"])}


SPEC = CheckSpec(
    code="EXCLUSIVE",
    label="特困低保重复享受",
    description="同一人同一月份既领取特困供养金又领取低保金",
    datasets=("assistance_payments",),
    findings=findings,
    evidence=evidence,
    facts={"tekun": "当月特困供养金(元)", "dibao": "当月低保金(元)"},
    no_longer="发放记录已更正或撤回,已不属于同时享受特困和低保",
)
