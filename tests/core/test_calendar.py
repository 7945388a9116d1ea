from datetime import date

from dajiuzhu.core.calendar import (
    add_working_days,
    calendar_covers,
    is_working_day,
    working_days_between,
)


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


def test_the_calendar_says_which_years_it_covers():
    assert calendar_covers(2023) and calendar_covers(2026)
    assert not calendar_covers(2031)
