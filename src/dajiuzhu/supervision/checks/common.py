"""What the fund checks share: the month's bounds, the month's payments, the payee's 户籍
household and its members, and what "held in M" means (SUPERVISION.md).

Every check returns an Ibis table with :data:`FINDING_COLUMNS` then its own ``ev_*`` columns,
keyed by ``person_key`` (no personal data leaves the registry). The same expressions run on
DuckDB and Spark. Ibis is imported where an expression is built.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from dajiuzhu.analytics.engine import Lake

MONEY = "decimal(18,2)"
FINDING_COLUMNS = ("person_key", "program_code", "payment_id", "amount")


@dataclass
class CheckContext:
    """One month's checks on one lake. What several checks read — the month's payments, the
    payees' 户籍 households and those households' members — is computed once and cached on
    the engine (a temporary table), so the 5,000,000-person 户籍 view is read once a run."""

    lake: Lake
    month: str  # YYYY-MM
    _cached: dict[str, ir.Table] = field(default_factory=dict, repr=False)

    @property
    def first_day(self) -> date:
        return date(int(self.month[:4]), int(self.month[5:7]), 1)

    @property
    def last_day(self) -> date:
        y, m = int(self.month[:4]), int(self.month[5:7])
        return date(y, m, calendar.monthrange(y, m)[1])

    def lit(self, day: date) -> ir.DateScalar:
        import ibis

        return ibis.literal(day, "date")

    def _once(self, name: str, build: Callable[[], ir.Table]) -> ir.Table:
        if name not in self._cached:
            self._cached[name] = self.lake.cache(build())
        return self._cached[name]

    def payments(self) -> ir.Table:
        """The month's payments (the current view: quarantined rows never entered the lake)."""

        def build() -> ir.Table:
            import ibis

            p = self.lake.table("assistance_payments")
            return p.filter(p.month == ibis.literal(self.month, "string"))

        return self._once("payments", build)

    def payee_homes(self) -> ir.Table:
        """``person_key, home_no, division_code`` of the month's payees (their 户籍 household
        number and division)."""

        def build() -> ir.Table:
            hukou = self.lake.table("hukou")
            payees = self.payments().select("person_key").distinct()
            return hukou.semi_join(payees, "person_key").select(
                person_key=hukou.person_key,
                home_no=hukou.household_no,
                division_code=hukou.division_code,
            )

        return self._once("payee_homes", build)

    def payee_households(self, payments: ir.Table) -> ir.Table:
        """Each payment with the payee's 户籍 household number (payees without a 户籍 record
        drop out: their household cannot be known)."""
        return payments.join(self.payee_homes().select("person_key", "home_no"), "person_key")

    def members(self) -> ir.Table:
        """Every person the 户籍 view lists in a payee's household: ``home_no, member_key``."""

        def build() -> ir.Table:
            hukou = self.lake.table("hukou")
            homes = self.payee_homes().select("home_no").distinct()
            return hukou.semi_join(homes, hukou.household_no == homes.home_no).select(
                home_no=hukou.household_no, member_key=hukou.person_key
            )

        return self._once("members", build)

    def held_in_month(self, table: ir.Table) -> ir.BooleanValue:
        """Status ``held`` and ``registered_date`` on or before the last day of M."""
        return (table.status == "held") & (table.registered_date <= self.lit(self.last_day))


def no_ref() -> ir.StringScalar:
    import ibis

    return ibis.literal("", "string")


def per_payment(t: ir.Table, **evidence: ir.Value) -> ir.Table:
    """One finding per payment: the payment's own columns, then the evidence."""
    return t.select(
        person_key=t.person_key,
        program_code=t.program_code,
        payment_id=t.payment_id,
        amount=t.amount.cast(MONEY),
        **evidence,
    )


def household_assets(ctx: CheckContext, payments: ir.Table, held: ir.Table, ref: str) -> ir.Table:
    """The payments whose payee's 户籍 household holds something: ``held`` is a table of
    ``member_key`` and ``ref`` (the thing's id); adds ``ev_count`` (distinct things held by the
    household's members together)."""
    homes = ctx.payee_households(payments)
    owned = ctx.members().join(held, "member_key")
    per_home = owned.group_by("home_no").aggregate(ev_count=owned[ref].nunique())
    return homes.join(per_home, "home_no")
