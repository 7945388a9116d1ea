"""Reads of the policy library: the rules with the administrators' dated values, the
parameters, the programme catalogue, the candidates of a user's towns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from dajiuzhu.core.access import require_role, scope_q
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Role
from dajiuzhu.policy import catalogue, engine
from dajiuzhu.policy.models import Candidate, CandidateStatus, EligibilityRun, ParameterOverride

CANDIDATE_READERS = frozenset(
    {
        Role.WINDOW_CLERK,
        Role.CASEWORKER,
        Role.APPROVER,
        Role.GRID_WORKER,
        Role.SUPERVISOR,
        Role.ADMIN,
    }
)


def overrides() -> list[engine.ParameterValue]:
    return [
        engine.ParameterValue(
            name=o.name, start=o.start, value=float(o.value), reference=o.reference
        )
        for o in ParameterOverride.objects.order_by("name", "start")
    ]


def policy_system():
    """The OpenFisca system with every stored dated value applied (the engine caches one
    system per set of values, so this is cheap once built)."""
    return engine.build_system(tuple(overrides()))


UNITS_ZH = {"working-day": "个工作日", "day": "天", "month": "个月"}


@dataclass(frozen=True)
class StepLimit:
    """One intake step with its limit on a day (``days`` None: bounded by the whole case)."""

    step: str
    label: str
    days: int | None
    unit_zh: str
    counted_from: str | None


def _limit(system, path: str, on: date) -> tuple[int, str]:
    value = catalogue.limit_value(system.parameters(on), path)
    unit = engine.find_parameter(system, path).metadata.get("unit", "")
    return int(value), UNITS_ZH.get(unit, unit)


def programme_deadline_days(
    programme: catalogue.Programme, *, on: date, extended: bool = False, system=None
) -> int:
    """Working days from acceptance to the decision of the whole case on ``on`` (or, with
    ``extended``, the limit it may be extended to with a recorded reason) — the parameter the
    catalogue names, with administrators' dated values."""
    intake = programme.intake
    path = intake.extended_case if extended and intake.extended_case else intake.whole_case
    return _limit(system or policy_system(), path, on)[0]


def programme_steps(programme: catalogue.Programme, *, on: date, system=None) -> list[StepLimit]:
    """The programme's intake steps with their limits on ``on`` (``system``: the rules with
    the stored dated values, read once by a caller that lists many programmes)."""
    system = system or policy_system()
    rows = []
    for s in programme.intake.steps:
        days, unit = _limit(system, s.limit, on) if s.limit else (None, "")
        counted_from = catalogue.STEP_LABELS[s.counted_from] if s.counted_from else None
        rows.append(StepLimit(s.step, s.label, days, unit, counted_from))
    return rows


def parameter_list() -> QuerySet[ParameterOverride]:
    return ParameterOverride.objects.select_related("created_by").order_by("name", "start")


def candidates_for(
    *,
    user: User,
    month: str | None = None,
    programme: str | None = None,
    status: str | None = CandidateStatus.OPEN,
    town: str | None = None,
    limit: int = 500,
) -> list[Candidate]:
    require_role(user, CANDIDATE_READERS)
    qs = Candidate.objects.filter(scope_q(user, "division_code")).select_related("town")
    if month:
        qs = qs.filter(month=month)
    if programme:
        qs = qs.filter(programme=programme)
    if status:
        qs = qs.filter(status=status)
    if town:
        qs = qs.filter(town_id=town)
    return list(qs.order_by("town_id", "programme", "household_no")[:limit])


def latest_run(month: str | None = None) -> EligibilityRun | None:
    qs = EligibilityRun.objects.filter(status="done")
    if month:
        qs = qs.filter(month=month)
    return qs.order_by("-id").first()
