"""Calendar months as ``YYYY-MM`` strings (payment months, review months): parse with a clear
error, step forward and back, compare as text (the format sorts)."""

from __future__ import annotations

import re
from datetime import date

from dajiuzhu.core.errors import ServiceError

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(text: str, *, code: str, field: str = "month") -> str:
    value = (text or "").strip()
    if MONTH.match(value) is None:
        raise ServiceError(
            code, f"月份格式不正确:“{value[:20]}”(应为YYYY-MM,如2024-01)", field=field
        )
    return value


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def add_months(month: str, n: int) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    index = year * 12 + (mon - 1) + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def first_day(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)
