"""The six early-warning rules of RULES.md ("Early warning"), one small module each.

Each module builds Ibis expressions over the lake's current views (``person_key`` only) and
declares a :class:`RuleSpec`: the datasets it reads, the dataset whose rows in the year mean
the rule has something to scan (``driver``), the real-time dataset that triggers it, and how a
result row becomes the warning's evidence summary (figures and codes, never an ID number).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import ibis.expr.types as ir

from dajiuzhu.warnings.rules.common import RuleContext


@dataclass(frozen=True)
class RuleSpec:
    code: str
    label: str
    datasets: tuple[str, ...]
    driver: str
    driver_date: str
    realtime: str | None
    findings: Callable[[RuleContext], ir.Table]
    evidence: Callable[[dict[str, Any]], dict[str, Any]]
    medical: bool = False
    # The driver's column that becomes ``event_ref`` (None: one warning per person and year).
    event_column: str | None = None


def plain(value: Any) -> Any:
    """A JSON-safe value for the evidence summary."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return value


def _specs() -> dict[str, RuleSpec]:
    from dajiuzhu.warnings.rules import (
        disaster,
        earner_death,
        med_fall,
        med_return,
        new_severe_disability,
        traffic,
    )

    modules = (med_return, med_fall, traffic, disaster, earner_death, new_severe_disability)
    return {m.SPEC.code: m.SPEC for m in modules}


RULES: dict[str, RuleSpec] = _specs()
RULE_CODES: tuple[str, ...] = tuple(RULES)
# A publication (or retraction) of these datasets re-runs their rule for the batch's persons.
REALTIME: dict[str, str] = {s.realtime: s.code for s in RULES.values() if s.realtime}
