"""Reads of the policy library: the rules with the administrators' dated values, the
parameters, the programme catalogue, the candidates of a user's towns."""

from __future__ import annotations

from django.db.models import QuerySet

from dajiuzhu.core.access import require_role, scope_q
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Role
from dajiuzhu.policy import engine
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
