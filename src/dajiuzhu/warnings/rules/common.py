"""What the rules share: the scan context, year bounds, typed literals, the restriction to
some persons (real-time scans), the year's out-of-pocket spend (computed once per scan), and
routing to the person's 户籍 household and division.

Every rule returns an Ibis table with the columns of :data:`FINDING_COLUMNS` followed by its own
evidence columns (``ev_*``), keyed by ``person_key`` only: no personal data leaves the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import ibis
import ibis.expr.types as ir

from dajiuzhu.analytics.engine import Lake

MONEY = "decimal(18,2)"
FINDING_COLUMNS = ("person_key", "event_ref", "event_date", "amount")

# 特困, 低保, 低边, 支出型: the statuses MED_RETURN looks for (RULES.md).
STATUS_PROGRAMMES = ("tekun", "dibao", "dibian", "zhichu")


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
    return ibis.literal(value, MONEY)


def no_date() -> ir.DateScalar:
    return ibis.null().cast("date")


def no_amount() -> ir.DecimalScalar:
    return ibis.null().cast(MONEY)


def no_ref() -> ir.StringScalar:
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
    before_birthday = (day.month() * 100 + day.day()) < (birth.month() * 100 + birth.day())
    return (day.year() - birth.year() - ibis.ifelse(before_birthday, 1, 0)).cast("int64")


def date_month_index(day: ir.DateValue) -> ir.IntegerValue:
    return (day.year() * 12 + day.month() - 1).cast("int64")
