"""Writes of the policy library: dated parameter values, population runs and their
candidates, and the towns' follow-up of candidates."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from dajiuzhu.core.access import require_role
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.errors import ServiceError
from dajiuzhu.core.models import Division, User
from dajiuzhu.core.roles import Purpose, Role
from dajiuzhu.policy import engine
from dajiuzhu.policy.access import access_candidate_by_id
from dajiuzhu.policy.models import (
    Candidate,
    CandidateStatus,
    EligibilityRun,
    ParameterOverride,
    RunStatus,
)
from dajiuzhu.policy.selectors import policy_system
from dajiuzhu.policy.simulation import month_for_rules

log = logging.getLogger("dajiuzhu.policy")


@transaction.atomic
def parameter_value_add(
    *, actor: User | None, name: str, start: date, value: str | Decimal, reference: str
) -> ParameterOverride:
    """Add a dated value to a parameter (e.g. a new 低保标准). Validated against the rules'
    parameters and the values already added; audited; takes effect at once."""
    if actor is not None:
        require_role(actor, {Role.ADMIN})
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ServiceError("parameter.not_numeric", "取值应为数字", field="value") from None
    if not number.is_finite():
        raise ServiceError("parameter.not_numeric", "取值应为数字", field="value")
    reference = (reference or "").strip()
    pv = engine.ParameterValue(
        name=name.strip(), start=start, value=float(number), reference=reference
    )
    try:
        engine.validate_parameter_value(policy_system(), pv)
    except engine.PolicyError as exc:
        raise ServiceError(f"parameter.{exc.code}", exc.message_zh) from None
    override = ParameterOverride.objects.create(
        name=pv.name, start=start, value=number, reference=reference[:300], created_by=actor
    )
    audit_record(
        actor=actor,
        action="policy.parameter.add",
        object_type="parameter",
        object_id=pv.name,
        purpose=Purpose.ADMINISTRATION,
        detail={"start": start.isoformat(), "value": str(number), "reference": reference[:300]},
    )
    return override


def find_eligible(*, month: str, batch_households: int = 200_000) -> EligibilityRun:
    """Run the rules over the whole population for a month and record, per town, the
    households likely eligible for a programme they do not receive."""
    from dajiuzhu.policy import inputs, population

    month = month_for_rules(month)
    run = EligibilityRun.objects.create(month=month, started_at=timezone.now())
    try:
        result = population.run(month, system=policy_system(), batch_households=batch_households)
    except population.PopulationError as exc:
        _fail(run, exc.message)
        raise ServiceError(exc.code, exc.message) from None
    except engine.PolicyError as exc:
        _fail(run, exc.message_zh)
        raise ServiceError(f"policy.{exc.code}", exc.message_zh) from None
    sources = inputs.sources_status(inputs.window(month))
    _record(run, result, sources)
    return run


def _fail(run: EligibilityRun, message: str) -> None:
    EligibilityRun.objects.filter(pk=run.pk).update(
        status=RunStatus.FAILED, error=message, finished_at=timezone.now()
    )


@transaction.atomic
def _record(run: EligibilityRun, result, sources: list[dict]) -> None:
    towns = set(Division.objects.filter(level="town").values_list("code", flat=True))
    found = set()
    new = []
    for c in result.candidates:
        town = c.division_code[:9]
        if town not in towns:
            continue  # cannot be routed (the 户籍 contract only admits known towns)
        found.add((c.programme, c.household_no, c.person_key))
        new.append(
            Candidate(
                month=result.month,
                programme=c.programme,
                household_no=c.household_no,
                person_key=c.person_key,
                town_id=town,
                division_code=c.division_code,
                estimated_amount=None if c.amount is None else Decimal(f"{c.amount:.2f}"),
                figures=c.figures,
                run=run,
            )
        )
    Candidate.objects.bulk_create(new, batch_size=5000, ignore_conflicts=True)
    stale = [
        pk
        for pk, programme, household_no, person_key in Candidate.objects.filter(
            month=result.month, status=CandidateStatus.OPEN
        ).values_list("pk", "programme", "household_no", "person_key")
        if (programme, household_no, person_key) not in found
    ]
    Candidate.objects.filter(pk__in=stale).update(status=CandidateStatus.RESOLVED)
    run.status = RunStatus.DONE
    run.finished_at = timezone.now()
    run.persons, run.households = result.persons, result.households
    run.seconds = (run.finished_at - run.started_at).total_seconds()
    run.summary = {"programmes": result.summary, "seconds": result.seconds, "resolved": len(stale)}
    run.sources = sources
    run.save()
    audit_record(
        actor=None,
        action="policy.find_eligible",
        object_type="eligibility_run",
        object_id=run.pk,
        purpose=Purpose.CASEWORK,
        label="system:find-eligible",
        detail={"month": result.month, "candidates": len(new), "resolved": len(stale)},
    )


@transaction.atomic
def candidate_follow_up(
    *, actor: User, candidate_id: int, status: str, note: str = ""
) -> Candidate:
    candidate = access_candidate_by_id(actor, candidate_id, for_update=True)
    if status not in (
        CandidateStatus.CONTACTED,
        CandidateStatus.APPLIED,
        CandidateStatus.NOT_ELIGIBLE,
    ):
        raise ServiceError("candidate.status", "跟进结果不正确", field="status")
    if len(note or "") > 500:
        raise ServiceError("candidate.note", "跟进记录不能超过500字", field="note")
    candidate.status = status
    candidate.note = (note or "").strip()
    candidate.save(update_fields=["status", "note", "updated_at"])
    audit_record(
        actor=actor,
        action="policy.candidate.follow_up",
        object_type="candidate",
        object_id=candidate.pk,
        purpose=Purpose.CASEWORK,
        detail={"status": status, "household_no": candidate.household_no},
    )
    return candidate
