"""A check report's figures as sentences a caseworker reads: conditions with their numbers in
yuan, years or counts, 是/否, disabilities by grade and category, times in local time. Used by
the page, the PDF and the CLI's text report."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from dajiuzhu.policy.calculator import KINDS

KIND_NAMES = dict(KINDS)
GRADE_NAMES = {1: "一", 2: "二", 3: "三", 4: "四"}
RELATION_OPS = {"<": "应低于", "≤": "应不超过", "≥": "应不低于", "=": "应为", ">": "应高于"}
UNDETERMINED = "无法判断(所依据的部门数据缺失)"


def disability(grade: int | str, kind: str = "") -> str:
    """``1, "physical"`` → 一级肢体残疾; no grade → 无残疾证."""
    try:
        grade = int(grade or 0)
    except (TypeError, ValueError):
        grade = 0
    if not grade:
        return "无残疾证"
    name = KIND_NAMES.get(kind, "") if kind and kind != "none" else ""
    return f"{GRADE_NAMES.get(grade, str(grade))}级{name}残疾"


def _graded(value: Any) -> str:
    """A condition's ``"3 intellectual"`` or bare grade as words."""
    if isinstance(value, str) and " " in value:
        grade, kind = value.split(" ", 1)
        return disability(grade, kind)
    return disability(value)


def _unit(label: str) -> str:
    if "周岁" in label or "年龄" in label:
        return "岁"
    if "机动车" in label:
        return "辆"
    if "住房" in label:
        return "套"
    if "月数" in label:
        return "个月"
    return "元"


def amount(value: Any, unit: str = "元") -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if unit == "元" and isinstance(value, int | float):
        return f"{value:,.2f}元"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value}{unit}"


def condition_figures(c: dict) -> str:
    """The numbers behind a condition (empty for yes/no facts and groups of alternatives)."""
    op, left, right = c.get("op"), c.get("left"), c.get("right")
    if not op or isinstance(left, bool):
        return ""
    if op == "in":
        return f"实际为{_graded(left)}"
    unit = _unit(c.get("label_zh", ""))
    return f"实际{amount(left, unit)},{RELATION_OPS.get(op, op)}{amount(right, unit)}"


def held_mark(item: dict) -> str:
    if item.get("undetermined"):
        return "?"
    return "✓" if item.get("held") else "✗"


def held_word(item: dict, yes: str = "成立", no: str = "不成立") -> str:
    if item.get("undetermined"):
        return "无法判断"
    return yes if item.get("held") else no


def local_time(value: str | datetime | None) -> str:
    """An ISO time (as the report stores it, UTC) in Asia/Shanghai: 2024-01-05 09:30."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
