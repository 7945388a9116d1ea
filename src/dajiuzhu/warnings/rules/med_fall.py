"""因病致贫 MED_FALL: a person insured in Y and not warned under MED_RETURN for Y whose
out-of-pocket settled in Y sums to more than the per-capita disposable income of Y−1 (the
``disposable_income`` dataset). The scan refuses this rule when that figure is not loaded."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dajiuzhu.warnings.rules import med_return
from dajiuzhu.warnings.rules.common import (
    MONEY,
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

INSURANCE_LABELS = {"employee": "职工医保", "resident": "居民医保"}


def findings(ctx: RuleContext) -> ir.Table:
    if ctx.disposable_income is None:  # the scan refuses before; never assume zero
        raise ValueError("MED_FALL needs the disposable income of the previous year")
    spent = spend(ctx)
    over = spent.filter(spent.out_of_pocket > money(ctx.disposable_income))
    insured = ctx.restrict(ctx.lake.table("insured_persons"))
    insured = insured.filter(insured.year == ctx.year).select("person_key", "insurance_type")
    # join the few persons over the income first, then take one row per person (a person has
    # one row per year: the natural key is person and year)
    joined = over.join(insured, "person_key")
    per_person = joined.group_by("person_key").aggregate(
        out_of_pocket=joined.out_of_pocket.max(),
        ev_insurance=joined.insurance_type.max(),
    )
    returned = med_return.findings(ctx).select("person_key")
    fallen = per_person.anti_join(returned, "person_key")
    return fallen.select(
        person_key=fallen.person_key,
        event_ref=no_ref(),
        event_date=no_date(),
        amount=fallen.out_of_pocket.cast(MONEY),
        ev_threshold=money(ctx.disposable_income),
        ev_insurance=fallen.ev_insurance,
    )


def evidence(row: dict) -> dict:
    return {
        "out_of_pocket": plain(row["amount"]),
        "threshold": plain(row["ev_threshold"]),
        "insurance_type": row["ev_insurance"],
    }


SPEC = RuleSpec(
    code="MED_FALL",
    label="因病致贫",
    datasets=(
        "medical_claims",
        "insured_persons",
        "disposable_income",
        "assistance_recipients",
        "hukou",
    ),
    driver="medical_claims",
    driver_date="settlement_date",
    parameters=("med_return_threshold", "disposable_income"),
    medical=True,
    findings=findings,
    evidence=evidence,
    limit="disposable_income",
    no_longer="已不是{year}年参保人员,或已转为因病返贫预警",
    facts=(
        Fact("out_of_pocket", "年度个人自负合计(元)"),
        Fact("threshold", "{prior_year}年全市居民人均可支配收入(元)"),
        Fact("insurance_type", "参保险种", values=INSURANCE_LABELS),
    ),
    headline=med_return.headline,
    lake_evidence=medical_evidence,
)
