import csv
from datetime import date
from pathlib import Path

import pytest

from dajiuzhu import cli
from dajiuzhu.core import calendar
from dajiuzhu.core.calendar import (
    CalendarDay,
    add_working_days,
    calendar_covers,
    calendar_year,
    is_working_day,
    working_days_between,
)

# The project's own transcription of the State Council's notices for 2023–2026, kept as an
# independent cross-check of the chinesecalendar package.
TRANSCRIBED = Path(__file__).parent / "data" / "holidays-2023-2026.csv"


def test_weekends_holidays_and_make_up_days():
    assert is_working_day(date(2023, 8, 1))  # a Tuesday
    assert not is_working_day(date(2023, 8, 5))  # a Saturday
    assert not is_working_day(date(2023, 10, 2))  # National Day holiday, a Monday
    assert is_working_day(date(2023, 10, 7))  # make-up Saturday (调休)


def test_ten_working_days_across_the_national_day_holiday():
    # 2023-09-28 (Thu) + 10: 10-07 and 10-08 (make-up days), 10-09…10-13, 10-16…10-18
    assert add_working_days(date(2023, 9, 28), 10) == date(2023, 10, 18)
    assert working_days_between(date(2023, 9, 28), date(2023, 10, 18)) == 10
    assert working_days_between(date(2023, 10, 18), date(2023, 9, 28)) == 0


def test_the_package_agrees_with_the_transcribed_notices():
    rows = list(csv.DictReader(TRANSCRIBED.read_text("utf-8").splitlines()))
    assert len(rows) == 146
    # A holiday row means "no work that day", a workday row "work that day".
    disagreements = [
        r for r in rows if is_working_day(date.fromisoformat(r["date"])) != (r["kind"] == "workday")
    ]
    assert disagreements == []


def test_the_calendar_says_which_years_it_covers():
    assert calendar_covers(2023) and calendar_covers(2026)
    assert not calendar_covers(2031)
    assert calendar_year(2031) == []


def test_a_year_the_package_does_not_cover_comes_from_the_table(monkeypatch):
    table = {
        date(2031, 1, 1): CalendarDay(date(2031, 1, 1), "holiday", "元旦", "holidays.csv"),
        date(2031, 1, 4): CalendarDay(date(2031, 1, 4), "workday", "元旦调休", "holidays.csv"),
    }
    monkeypatch.setattr(calendar, "_table", lambda: table)
    assert calendar_covers(2031)
    assert not is_working_day(date(2031, 1, 1))  # a Wednesday, but 元旦
    assert is_working_day(date(2031, 1, 4))  # a Saturday, but a make-up day
    # 2030-12-31 (Tue) + 3: 01-01 off, 01-02 (Thu), 01-03 (Fri), 01-04 (make-up Sat)
    assert add_working_days(date(2030, 12, 31), 3) == date(2031, 1, 4)
    assert [e.name for e in calendar_year(2031)] == ["元旦", "元旦调休"]


def test_calendar_show_lists_holidays_and_make_up_days(capsys):
    assert cli.main(["calendar", "show", "2026"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "2026-10-01  周四  放假    国庆节" in out
    assert "2026-10-10  周六  调休上班  国庆节调休" in out
    assert out[-1] == "2026 年:放假 33 天,调休上班 6 天(来源:chinesecalendar)"


def test_calendar_show_refuses_a_year_nobody_knows(capsys):
    assert cli.main(["calendar", "show", "2031"]) == 1
    assert "2031 年的节假日和调休安排尚未收录" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        ("2023-09-28", "10", "2023-10-18"),
        ("2026-09-30", "1", "2026-10-08"),
        ("2026-06-01", "0", "2026-06-01"),
    ],
)
def test_calendar_add_working_days(capsys, start, days, expected):
    assert cli.main(["calendar", "add-working-days", start, days]) == 0
    assert capsys.readouterr().out.strip() == expected


def test_calendar_add_working_days_warns_where_the_year_is_not_known(capsys):
    assert cli.main(["calendar", "add-working-days", "2030-12-20", "10"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "2031-01-03"
    assert "2031 年的节假日安排尚未收录" in captured.err


def test_calendar_add_working_days_refuses_bad_input(capsys):
    assert cli.main(["calendar", "add-working-days", "2026-13-01", "3"]) == 2
    assert "日期格式应为 YYYY-MM-DD" in capsys.readouterr().err
    assert cli.main(["calendar", "add-working-days", "2026-06-01", "-3"]) == 2
    assert "工作日数不能为负数" in capsys.readouterr().err
