"""What each lake summary is: a pure function of one dataset's current view, defined once as an
Ibis expression (see :mod:`dajiuzhu.analytics.summaries` for how they are kept and read).

* ``wages_by_year`` — one row per person and year with the wages of each month (``m01`` …
  ``m12``, the sum over employers; NULL for a month without a wage row): 主要劳动力去世 needs
  the wages of the households of a year's deaths (some 20,000 persons in a city of five
  million), and finding their rows among 56 million wage lines costs a scan half a second.
* ``hukou_by_person`` — the 户籍 details a scan routes its warnings by (birth date, household,
  division, status), one row per person: some 20,000 persons looked up among five million.

Which summaries the worker keeps current is for their readers to say (the warning rules
declare the ones they read); this module only defines them. It imports nothing heavy: the
expressions are built from the tables they are given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis.expr.types as ir

MONEY = "decimal(18,2)"
MONTHS = tuple(f"m{m:02d}" for m in range(1, 13))


@dataclass(frozen=True)
class Summary:
    name: str
    dataset: str
    build: Callable[[ir.Table], ir.Table]  # the dataset's current view (maybe restricted) → rows
    order: tuple[str, ...]


def wages_by_year(wages: ir.Table) -> ir.Table:
    """Per person and calendar year: the month's wages summed over employers (``m01``…)."""
    year = wages.month.substr(0, 4).cast("int32")
    month = wages.month.substr(5, 2)
    return wages.group_by(person_key=wages.person_key, year=year).aggregate(
        **{name: wages.wage.sum(where=month == name[1:]).cast(MONEY) for name in MONTHS}
    )


def hukou_by_person(hukou: ir.Table) -> ir.Table:
    return hukou.select("person_key", "birth_date", "household_no", "division_code", "status")


SUMMARIES: dict[str, Summary] = {
    "wages_by_year": Summary("wages_by_year", "wages", wages_by_year, ("person_key", "year")),
    "hukou_by_person": Summary("hukou_by_person", "hukou", hukou_by_person, ("person_key",)),
}
