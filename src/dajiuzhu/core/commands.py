"""`dajiuzhu calendar`: the working-day calendar every deadline uses, for administrators to see
and check. Needs no database."""

from __future__ import annotations

import argparse
import sys
from datetime import date

KIND_LABELS = {"holiday": "放假", "workday": "调休上班"}


def register(sub, command) -> None:
    p = sub.add_parser("calendar", help="the working-day calendar (holidays, make-up days)")
    actions = p.add_subparsers(dest="calendar_action", required=True)
    show = actions.add_parser("show", help="list a year's holidays and make-up working days")
    show.add_argument("year", type=int)
    add = actions.add_parser(
        "add-working-days", help="the date N working days after a date (the start not counted)"
    )
    add.add_argument("start", help="YYYY-MM-DD")
    add.add_argument("days", type=int)
    command("calendar")(cmd_calendar)


def cmd_calendar(args: argparse.Namespace) -> int:
    from dajiuzhu.core import calendar

    if args.calendar_action == "show":
        days = calendar.calendar_year(args.year)
        if not calendar.calendar_covers(args.year):
            print(
                f"error: {args.year} 年的节假日和调休安排尚未收录"
                "(chinesecalendar 未覆盖,core/data/holidays.csv 也没有),"
                "该年的期限只按周末计算",
                file=sys.stderr,
            )
            return 1
        for entry in days:
            weekday = "一二三四五六日"[entry.day.weekday()]
            print(
                f"{entry.day.isoformat()}  周{weekday}  {KIND_LABELS[entry.kind]:<4}  {entry.name}"
            )
        holidays = sum(1 for e in days if e.kind == "holiday")
        workdays = len(days) - holidays
        print(f"{args.year} 年:放假 {holidays} 天,调休上班 {workdays} 天(来源:{days[0].source})")
        return 0
    try:
        start = date.fromisoformat(args.start)
    except ValueError:
        print(f"error: 日期格式应为 YYYY-MM-DD:{args.start!r}", file=sys.stderr)
        return 2
    if args.days < 0:
        print("error: 工作日数不能为负数", file=sys.stderr)
        return 2
    end = calendar.add_working_days(start, args.days)
    uncovered = sorted(
        {y for y in range(start.year, end.year + 1) if not calendar.calendar_covers(y)}
    )
    print(end.isoformat())
    if uncovered:
        years = "、".join(str(y) for y in uncovered)
        print(f"warning: {years} 年的节假日安排尚未收录,只按周末计算", file=sys.stderr)
    return 0
