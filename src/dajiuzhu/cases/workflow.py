"""The case workflow read from the programme catalogue and the dated handling parameters:
which steps a programme has, and when each is due. No limit is written here — each is the
parameter the catalogue names (policy/parameters/handling), on the day it applies."""

from __future__ import annotations

from datetime import date, timedelta

from dajiuzhu.core.calendar import add_working_days
from dajiuzhu.policy import catalogue, engine
from dajiuzhu.policy.selectors import policy_system

MISSING_DOCUMENTS_LIMIT = "handling.intake.missing_documents"
ROUTING_LIMIT = "handling.intake.routing"

STEP_LABELS = {
    **catalogue.STEP_LABELS,
    "district_visit": "区级入户核查(近亲属备案)",
    "advance": "先行救助",
}


def limit(path: str, *, on: date, system=None) -> tuple[int, str]:
    """The limit's value on ``on`` and its unit (``working-day`` or ``day``)."""
    system = system or policy_system()
    value = catalogue.limit_value(system.parameters(on), path)
    unit = engine.find_parameter(system, path).metadata.get("unit", "working-day")
    return int(value), unit


def due_after(path: str, start: date, *, system=None) -> date:
    days, unit = limit(path, on=start, system=system)
    if unit == "day":
        return start + timedelta(days=days)
    return add_working_days(start, days)


def whole_case_due(programme: catalogue.Programme, start: date, *, extended: bool = False) -> date:
    intake = programme.intake
    path = intake.extended_case if extended and intake.extended_case else intake.whole_case
    return due_after(path, start)


def step_limit(programme: catalogue.Programme, step: str) -> catalogue.Step | None:
    return next((s for s in programme.intake.steps if s.step == step), None)


def step_due(programme: catalogue.Programme, step: str, start: date, case_due: date) -> date:
    """Due date of ``step`` counted from ``start`` (the day its ``from`` step was done); a step
    without its own limit is bounded by the whole case."""
    s = step_limit(programme, step)
    if s is None or s.limit is None:
        return case_due
    return due_after(s.limit, start)


def publicity_posts(programme: catalogue.Programme, *, applicant_age: int) -> bool:
    """Whether the case is posted: a programme with 公示, unless minors are not posted."""
    publicity = programme.intake.publicity
    if publicity is None:
        return False
    return publicity.minors or applicant_age >= 18


def next_month(day: date) -> str:
    return f"{day.year + day.month // 12:04d}-{day.month % 12 + 1:02d}"
