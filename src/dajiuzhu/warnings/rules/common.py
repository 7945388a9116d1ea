"""What the rules share: the scan context, year bounds, typed literals, the restriction to
some persons (real-time scans), the year's out-of-pocket spend (computed once per scan), routing
to the person's 户籍 household and division, and the two kinds of lake evidence a warning's page
shows (a medical warning's claims by month, an event's rows).

Every rule returns an Ibis table with the columns of :data:`FINDING_COLUMNS` followed by its own
evidence columns (``ev_*``), keyed by ``person_key`` only: no personal data leaves the registry.

Ibis is imported where an expression is built, not when this module is: Django's start-up reads
the rules' declarations and must not load the analytics stack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from dajiuzhu.warnings.rulespec import LakeEvidence, allowed

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from dajiuzhu.analytics.engine import Lake
    from dajiuzhu.warnings.models import Warning

MONEY = "decimal(18,2)"
FINDING_COLUMNS = ("person_key", "event_ref", "event_date", "amount")

# 特困, 低保, 低边, 支出型: the statuses MED_RETURN looks for (RULES.md).
STATUS_PROGRAMMES = ("tekun", "dibao", "dibian", "zhichu")
# The summary the scan routes every rule's findings by (the person's 户籍 household, division).
ROUTING_SUMMARY = "hukou_by_person"


@dataclass
class RuleContext:
    """One scan's inputs: the lake, the year, the parameters, an optional set of persons."""

    lake: Lake
    year: int
    med_return_threshold: Decimal
    disposable_income: Decimal | None = None  # of year - 1; None: not loaded
    persons: ir.Table | None = None  # restrict every rule to these person keys
    _shared: dict[str, ir.Table] = field(default_factory=dict)
    _pending: dict[str, Callable[[], ir.Table]] = field(default_factory=dict)

    @property
    def start(self) -> date:
        return date(self.year, 1, 1)

    @property
    def end(self) -> date:
        return date(self.year, 12, 31)

    def in_year(self, column: ir.DateValue) -> ir.BooleanValue:
        import ibis

        return column.between(ibis.literal(self.start, "date"), ibis.literal(self.end, "date"))

    def restrict(self, table: ir.Table) -> ir.Table:
        if self.persons is None:
            return table
        return table.semi_join(self.persons, "person_key")

    def shared(self, name: str, build: Callable[[], ir.Table]) -> ir.Table:
        """An intermediate computed once per scan and reused by several rules."""
        if name in self._pending:
            self._shared[name] = self._pending.pop(name)()
        if name not in self._shared:
            self._shared[name] = self.lake.cache(build())
        return self._shared[name]

    def prefetch(self, name: str, build: Callable[[], ir.Table]) -> None:
        """Start computing a shared intermediate now (``shared`` then waits for it)."""
        if name not in self._shared and name not in self._pending:
            self._pending[name] = self.lake.prefetch(build())


def money(value: Decimal) -> ir.DecimalScalar:
    import ibis

    return ibis.literal(value, MONEY)


def no_date() -> ir.DateScalar:
    import ibis

    return ibis.null().cast("date")


def no_amount() -> ir.DecimalScalar:
    import ibis

    return ibis.null().cast(MONEY)


def no_ref() -> ir.StringScalar:
    import ibis

    return ibis.literal("", "string")


def spend_expr(ctx: RuleContext) -> ir.Table:
    """Per person: the out-of-pocket settled in the year, for those above the lowest threshold
    any medical rule uses (one pass over the claims — the scan's largest cost; the claim count
    is left to the warning's page, it costs this pass 15 %)."""
    claims = ctx.restrict(ctx.lake.table("medical_claims"))
    claims = claims.filter(ctx.in_year(claims.settlement_date))
    per_person = claims.group_by("person_key").aggregate(out_of_pocket=claims.out_of_pocket.sum())
    floor = ctx.med_return_threshold
    if ctx.disposable_income is not None:
        floor = min(floor, ctx.disposable_income)
    return per_person.filter(per_person.out_of_pocket > money(floor))


def spend(ctx: RuleContext) -> ir.Table:
    return ctx.shared("spend", lambda: spend_expr(ctx))


def age_on(day: ir.DateValue, birth: ir.DateValue) -> ir.IntegerValue:
    """Age in completed years on ``day``."""
    import ibis

    before_birthday = (day.month() * 100 + day.day()) < (birth.month() * 100 + birth.day())
    return (day.year() - birth.year() - ibis.ifelse(before_birthday, 1, 0)).cast("int64")


def date_month_index(day: ir.DateValue) -> ir.IntegerValue:
    return (day.year() * 12 + day.month() - 1).cast("int64")


# --------------------------------------------------------------------------- the page


CLAIM_TYPE_LABELS = {"inpatient": "住院", "outpatient": "门诊", "pharmacy": "药店购药"}


def medical_evidence(lake: Lake, w: Warning) -> LakeEvidence:
    """A medical warning's page: the person's out-of-pocket settled in the year, by month and
    claim type (with the totals and the number of claims)."""
    claims = lake.table("medical_claims")
    allowed("medical_claims", ["person_key", "settlement_date", "claim_type"])
    allowed("medical_claims", ["out_of_pocket", "total_cost"])
    mine = claims.filter(
        claims.person_key == w.person_key,
        claims.settlement_date.between(date(w.year, 1, 1), date(w.year, 12, 31)),
    )
    grouped = mine.group_by(
        month=mine.settlement_date.month(), claim_type=mine.claim_type
    ).aggregate(
        out_of_pocket=mine.out_of_pocket.sum(),
        total_cost=mine.total_cost.sum(),
        claims=mine.count(),
    )
    rows = sorted(lake.to_rows(grouped), key=lambda r: (r["month"], r["claim_type"]))
    monthly = [
        {
            "month": f"{w.year}-{r['month']:02d}",
            "claim_type": CLAIM_TYPE_LABELS.get(r["claim_type"], r["claim_type"]),
            "claims": r["claims"],
            "total_cost": r["total_cost"],
            "out_of_pocket": r["out_of_pocket"],
        }
        for r in rows
    ]
    return LakeEvidence(dataset="medical_claims", monthly=monthly)


def event_evidence(
    lake: Lake,
    w: Warning,
    *,
    dataset: str,
    match: str | None = None,
    columns: list[str] | None = None,
) -> LakeEvidence:
    """An event warning's page: the person's rows of ``dataset`` (those whose ``match`` column
    is the warning's event reference, or all of them), with ``columns`` — by default every
    field the contract opens for the warning purpose — without ``person_key``."""
    from dajiuzhu.core.roles import Purpose
    from dajiuzhu.exchange.contracts import get_contract

    if columns is None:
        columns = list(get_contract(dataset).purpose_fields(Purpose.WARNING))
    table = lake.table(dataset)
    rows = table.filter(table.person_key == w.person_key).select(*allowed(dataset, columns))
    if match is not None:
        rows = rows.filter(rows[match] == w.event_ref)
    events: list[dict[str, Any]] = [
        {k: v for k, v in r.items() if k != "person_key"} for r in lake.to_rows(rows)
    ]
    return LakeEvidence(dataset=dataset, events=events)
