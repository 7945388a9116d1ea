"""Statistics of early warning: per rule, town and month of pushing, within the acting user's
jurisdiction (``warnings.access``). Aggregates only: no personal data, no audit event."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils import timezone

from dajiuzhu.core.models import Division, DivisionLevel, User
from dajiuzhu.warnings.models import Outcome, ScanRun, Status
from dajiuzhu.warnings.queue import readable
from dajiuzhu.warnings.rules import RULE_CODES, RULES


@dataclass
class StatRow:
    key: str
    label: str
    pushed: int = 0
    assigned: int = 0
    investigated: int = 0
    helped: int = 0
    covered: int = 0
    overdue: int = 0
    withdrawn: int = 0

    @property
    def precision(self) -> float | None:
        """Share of investigated warnings that led to an application or were already in
        hardship (covered)."""
        if not self.investigated:
            return None
        return (self.helped + self.covered) / self.investigated


@dataclass
class Stats:
    year: int | None
    by_rule: list[StatRow]
    by_town: list[StatRow]
    by_month: list[StatRow]
    by_month_rule: dict[str, dict[str, int]]
    total: StatRow
    outcomes: dict[str, int]
    last_scans: list[ScanRun]


def _was_overdue(w: dict[str, Any], today: date) -> bool:
    if w["status"] == Status.WITHDRAWN:
        return False
    if w["investigated_at"] is not None:
        return timezone.localdate(w["investigated_at"]) > w["due_date"]
    return w["due_date"] < today


def warning_stats(*, user: User, year: int | None = None, rule: str = "") -> Stats:
    """Per rule, town and month (of pushing): pushed, assigned, investigated, helped to apply,
    overdue (investigated late or still open past the deadline), withdrawn; precision per
    rule. Aggregates only: no personal data."""
    qs = readable(user)
    if year:
        qs = qs.filter(year=year)
    if rule in RULES:
        qs = qs.filter(rule=rule)
    towns = dict(Division.objects.filter(level=DivisionLevel.TOWN).values_list("code", "name"))
    by_rule = {code: StatRow(code, RULES[code].label) for code in RULE_CODES}
    by_town: dict[str, StatRow] = {}
    by_month: dict[str, StatRow] = {}
    by_month_rule: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(RULE_CODES, 0))
    total = StatRow("total", "合计")
    outcomes = dict.fromkeys(Outcome.values, 0)
    today = timezone.localdate()
    fields = ("rule", "status", "town_id", "pushed_at", "assigned_at", "investigated_at")
    for w in qs.values(*fields, "due_date", "outcome").iterator(chunk_size=5000):
        month = timezone.localtime(w["pushed_at"]).strftime("%Y-%m")
        town = w["town_id"] or ""
        rows = [
            by_rule[w["rule"]],
            by_town.setdefault(town, StatRow(town, towns.get(town, "(未能分派)"))),
            by_month.setdefault(month, StatRow(month, month)),
            total,
        ]
        if w["status"] == Status.WITHDRAWN:
            for r in rows:
                r.withdrawn += 1
            continue
        by_month_rule[month][w["rule"]] += 1
        overdue = _was_overdue(w, today)
        if w["outcome"]:
            outcomes[w["outcome"]] += 1
        for r in rows:
            r.pushed += 1
            r.assigned += w["assigned_at"] is not None
            r.investigated += bool(w["outcome"])
            r.helped += w["outcome"] == Outcome.HELPED_TO_APPLY
            r.covered += w["outcome"] == Outcome.ALREADY_COVERED
            r.overdue += overdue
    return Stats(
        year=year,
        by_rule=list(by_rule.values()),
        by_town=sorted(by_town.values(), key=lambda r: r.key or "9"),
        by_month=sorted(by_month.values(), key=lambda r: r.key),
        by_month_rule=dict(sorted(by_month_rule.items())),
        total=total,
        outcomes=outcomes,
        last_scans=list(ScanRun.objects.order_by("-id")[:10]),
    )


def latest_year(*, user: User) -> int | None:
    """The latest year with warnings the user may see (None when there are none): the
    statistics' default period, so that the first view is not an empty year."""
    return readable(user).order_by("-year").values_list("year", flat=True).first()
