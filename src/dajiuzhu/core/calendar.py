"""Working days in China: weekends and public holidays are off, official make-up days (调休)
are working days — the rule every deadline of the platform uses.

The days come from the maintained ``chinesecalendar`` package (the State Council's yearly
notices, 2004 onwards). A year the package does not cover yet can be added as dated data in
``core/data/holidays.csv`` (columns ``date,kind,name``; kind ``holiday`` or ``workday``) as soon
as the notice is published; a year known to neither counts weekdays only, and
``calendar_covers`` says so, so that pages can warn that deadlines there are provisional.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources

import chinese_calendar
from chinese_calendar import constants

# The package names holidays in English; pages show the official Chinese names.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


@dataclass(frozen=True)
class CalendarDay:
    day: date
    kind: str  # "holiday" (off although a weekday may fall in it) or "workday" (调休 make-up day)
    name: str
    source: str  # "chinesecalendar" or "holidays.csv"


@cache
def _package_years() -> frozenset[int]:
    return frozenset(d.year for d in constants.holidays) | frozenset(
        d.year for d in constants.workdays
    )


@cache
def _table() -> dict[date, CalendarDay]:
    text = resources.files("dajiuzhu.core").joinpath("data", "holidays.csv").read_text("utf-8")
    days: dict[date, CalendarDay] = {}
    for row in csv.DictReader(text.splitlines()):
        day = date.fromisoformat(row["date"])
        if row["kind"] not in ("holiday", "workday"):
            raise ValueError(f"holidays.csv: unknown kind {row['kind']!r} on {row['date']}")
        days[day] = CalendarDay(day, row["kind"], row["name"], "holidays.csv")
    return days


def _table_years() -> frozenset[int]:
    return frozenset(d.year for d in _table())


def calendar_covers(year: int) -> bool:
    """Whether the holidays and make-up days of ``year`` are known (else weekdays only)."""
    return year in _package_years() or year in _table_years()


def is_working_day(day: date) -> bool:
    if day.year in _package_years():
        return bool(chinese_calendar.is_workday(day))
    entry = _table().get(day)
    if entry is not None:
        return entry.kind == "workday"
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


def calendar_year(year: int) -> list[CalendarDay]:
    """The holidays and make-up working days of ``year``, in date order (empty if unknown)."""
    if year in _package_years():
        out = [
            CalendarDay(d, "holiday", HOLIDAY_NAMES.get(name, name), "chinesecalendar")
            for d, name in constants.holidays.items()
            if d.year == year
        ]
        out += [
            CalendarDay(d, "workday", f"{HOLIDAY_NAMES.get(name, name)}调休", "chinesecalendar")
            for d, name in constants.workdays.items()
            if d.year == year
        ]
    else:
        out = [entry for d, entry in _table().items() if d.year == year]
    return sorted(out, key=lambda e: e.day)
