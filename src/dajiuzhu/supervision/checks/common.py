"""What the fund checks share: the month's bounds, the month's payments, the payee's 户籍
household and its members, and what "held in M" means (SUPERVISION.md).

Every check returns an Ibis table with :data:`FINDING_COLUMNS` then its own ``ev_*`` columns,
keyed by ``person_key`` (no personal data leaves the registry). The same expressions run on
DuckDB and Spark. Ibis is imported where an expression is built.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from dajiuzhu.analytics.engine import Lake

MONEY = "decimal(18,2)"
FINDING_COLUMNS = ("person_key", "program_code", "payment_id", "amount")


@dataclass
class CheckContext:
    lake: Lake
    month: str  # YYYY-MM

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

    def payments(self) -> ir.Table:
        """The month's payments (the current view: quarantined rows never entered the lake)."""
        import ibis

        p = self.lake.table("assistance_payments")
        return p.filter(p.month == ibis.literal(self.month, "string"))

    def payee_households(self, payments: ir.Table) -> ir.Table:
        """Each payment with the payee's 户籍 household number (payees without a 户籍 record
        drop out: their household cannot be known)."""
        hukou = self.lake.table("hukou")
        homes = hukou.select(person_key=hukou.person_key, home_no=hukou.household_no)
        return payments.join(homes, "person_key")

    def members(self) -> ir.Table:
        """Every person the 户籍 view lists in a household: ``home_no, member_key``."""
        hukou = self.lake.table("hukou")
        return hukou.select(home_no=hukou.household_no, member_key=hukou.person_key)

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
    members = ctx.members()
    owned = members.join(held, "member_key")
    per_home = owned.group_by("home_no").aggregate(ev_count=owned[ref].nunique())
    homes = ctx.payee_households(payments)
    return homes.join(per_home, "home_no")
