"""Working days in China: weekends and public holidays are off, official make-up days (调休)
are working days. The calendar is dated data (``core/data/holidays.csv``, from the State
Council's yearly notices), not code; a year missing from it counts weekdays only and
``calendar_covers`` says so."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from functools import cache
from importlib import resources


@cache
def _calendar() -> tuple[frozenset[date], frozenset[date], frozenset[int]]:
    text = resources.files("dajiuzhu.core").joinpath("data", "holidays.csv").read_text("utf-8")
    holidays, workdays, years = set(), set(), set()
    for row in csv.DictReader(text.splitlines()):
        day = date.fromisoformat(row["date"])
        (holidays if row["kind"] == "holiday" else workdays).add(day)
        years.add(day.year)
    return frozenset(holidays), frozenset(workdays), frozenset(years)


def calendar_covers(year: int) -> bool:
    return year in _calendar()[2]


def is_working_day(day: date) -> bool:
    holidays, workdays, _years = _calendar()
    if day in workdays:
        return True
    if day in holidays:
        return False
    return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (start itself not counted)."""
    day = start
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 if end <= start)."""
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count
