"""Writes of the household economic-status check: recording authorisations, running checks."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from dajiuzhu.core.access import NotFound, division_in_scope, require_purpose, require_role
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.errors import ServiceError
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Purpose, Role
from dajiuzhu.policy import engine
from dajiuzhu.policy.selectors import policy_system
from dajiuzhu.policy.simulation import month_for_rules
from dajiuzhu.registry.models import Household, Membership, Person
from dajiuzhu.registry.selectors import age_on
from dajiuzhu.verification import check
from dajiuzhu.verification.models import Authorisation, VerificationReport

CHECK_ROLES = frozenset({Role.WINDOW_CLERK, Role.CASEWORKER, Role.APPROVER, Role.ADMIN})
CHECK_PURPOSES = frozenset({Purpose.VERIFICATION, Purpose.CASEWORK, Purpose.SUPERVISION})
MAX_VALIDITY_DAYS = 366 * 3
STORE_CHUNK = 25  # reports stored per transaction by verify_batch


def _scoped_household(actor: User | None, household_id: int) -> Household:
    household = Household.objects.select_related("division").filter(pk=household_id).first()
    if household is None:
        raise NotFound
    if actor is not None and not division_in_scope(actor, household.division_id):
        raise NotFound
    return household


@transaction.atomic
def authorisation_record(
    *,
    actor: User | None,
    person_id: int,
    signed_on: date,
    expires_on: date,
    signed_by: str = "",
    scope: str = "",
    document_ref: str = "",
) -> Authorisation:
    """Record a member's signed authorisation (授权书) for the economic-status check."""
    if actor is not None:
        require_role(actor, CHECK_ROLES)
    membership = (
        Membership.objects.select_related("person", "household")
        .filter(person_id=person_id, end_date__isnull=True)
        .first()
    )
    if membership is None:
        raise NotFound
    household = membership.household
    if actor is not None and not division_in_scope(actor, household.division_id):
        raise NotFound
    today = timezone.localdate()
    if signed_on > today:
        raise ServiceError("authorisation.future", "签署日期不能晚于今天", field="signed_on")
    if expires_on < signed_on:
        raise ServiceError("authorisation.dates", "有效期不能早于签署日期", field="expires_on")
    if expires_on > signed_on + timedelta(days=MAX_VALIDITY_DAYS):
        raise ServiceError("authorisation.too_long", "授权有效期不能超过三年", field="expires_on")
    person = membership.person
    auth = Authorisation.objects.create(
        person=person,
        household=household,
        signed_by=(signed_by or person.name)[:50],
        scope=(scope or Authorisation._meta.get_field("scope").default)[:200],
        signed_on=signed_on,
        expires_on=expires_on,
        document_ref=(document_ref or "")[:60],
        recorded_by=actor,
    )
    audit_record(
        actor=actor,
        action="verification.authorisation.record",
        object_type="person",
        object_id=person.pk,
        purpose=Purpose.VERIFICATION,
        detail={
            "household": household.pk,
            "signed_on": signed_on.isoformat(),
            "expires_on": expires_on.isoformat(),
        },
    )
    return auth


def current_members(household: Household) -> list[check.Member]:
    return [
        check.Member(person=m.person, relation=m.relation)
        for m in Membership.objects.filter(household=household, end_date__isnull=True)
        .select_related("person")
        .order_by("start_date", "pk")
    ]


def missing_authorisations(
    household: Household, members: list[check.Member], *, on: date
) -> list[Person]:
    valid = set(
        Authorisation.objects.filter(
            household=household,
            revoked_at__isnull=True,
            signed_on__lte=on,
            expires_on__gte=on,
        ).values_list("person_id", flat=True)
    )
    return [
        m.person
        for m in members
        if age_on(m.person.birth_date, on) >= 18 and m.person.pk not in valid
    ]


def _month_or_error(month: str) -> str:
    return month_for_rules(month, label="核对月份")


def latest_check_month(*, not_after: str) -> str | None:
    """The month a check run now looks at: the latest month the departments' data reach, but
    not after ``not_after`` (YYYY-MM); None when no dated source is loaded."""
    from dajiuzhu.policy import inputs

    latest = check.latest_data_month(inputs.sources_status())
    return None if latest is None else min(latest, not_after)


def check_month_has_data(month: str) -> None:
    """Refuse a month in the future or after the latest month any source reaches: a report
    for it would rest on no data at all."""
    from dajiuzhu.policy import inputs

    this_month = timezone.localdate().strftime("%Y-%m")
    if month > this_month:
        raise ServiceError(
            "month.future", f"核对月份{month}尚未到来,请选择{this_month}或更早的月份", field="month"
        )
    latest = check.latest_data_month(inputs.sources_status())
    if latest is None:
        raise ServiceError(
            "month.no_data", "部门收入和财产数据尚未加载,暂时无法核对", field="month"
        )
    if month > latest:
        raise ServiceError(
            "month.no_data",
            f"部门数据只到{latest},无法核对{month};请选择{latest}或更早的月份",
            field="month",
        )


def prefetch_inputs(*, household_id: int, month: str) -> check.Fetched | None:
    """The lake's rows a check of the household for ``month`` reads, fetched ahead (no
    write, no audit): a caller whose transaction will append to the audit chain reads the lake
    first and passes the result to :func:`verify`, so that the chain's head is not held
    locked during the lake read. None when there is nothing to read."""
    household = Household.objects.filter(pk=household_id).first()
    if household is None:
        return None
    keys = [m.person.person_key for m in current_members(household)]
    return check.fetch_inputs(keys, _month_or_error(month)) if keys else None


def verify(
    *,
    actor: User | None,
    household_id: int,
    month: str,
    purpose: str = Purpose.VERIFICATION,
    fetched: check.Fetched | None = None,
) -> VerificationReport:
    """Run the economic-status check of a household for a month (核对报告). Refused unless
    every adult member has a valid signed authorisation. Audited with its purpose.
    ``fetched``: the lake's rows from :func:`prefetch_inputs` for this household and month
    (read again when they do not cover the current members)."""
    if actor is not None:
        require_role(actor, CHECK_ROLES)
    require_purpose(purpose)
    if purpose not in CHECK_PURPOSES:
        raise ServiceError(
            "verification.purpose", "核对用途应为经济状况核对、业务办理或监督检查", field="purpose"
        )
    month = _month_or_error(month)
    household = _scoped_household(actor, household_id)
    check_month_has_data(month)
    members = current_members(household)
    if not members:
        raise ServiceError("verification.no_members", "该家庭没有登记在册的成员,无法核对")
    today = timezone.localdate()
    lacking = missing_authorisations(household, members, on=today)
    if lacking:
        names = "、".join(p.name for p in lacking)
        raise ServiceError(
            "verification.no_authorisation", f"以下成年家庭成员尚未签署有效的核对授权书:{names}"
        )
    if fetched is not None and not all(m.person.person_key in fetched.features for m in members):
        fetched = None  # the household changed since: read again
    try:
        report = check.build_report(
            household=household,
            members=members,
            month=month,
            purpose=purpose,
            system=policy_system(),
            fetched=fetched,
        )
    except engine.PolicyError as exc:
        raise ServiceError(f"policy.{exc.code}", exc.message_zh, field="month") from None
    return _store(actor, household, members, month, purpose, report)


def _refusal(household: Household, members: list[check.Member], on: date) -> ServiceError | None:
    if not members:
        return ServiceError("verification.no_members", "该家庭没有登记在册的成员,无法核对")
    lacking = missing_authorisations(household, members, on=on)
    if lacking:
        names = "、".join(p.name for p in lacking)
        return ServiceError(
            "verification.no_authorisation", f"以下成年家庭成员尚未签署有效的核对授权书:{names}"
        )
    return None


def verify_batch(
    *, household_ids: list[int], month: str, purpose: str = Purpose.CASEWORK
) -> dict[int, VerificationReport | ServiceError]:
    """The worker's checks of many households for one month (复核 batches): the same checks
    and reports as :func:`verify` with no acting user, the lake read once for the batch.
    Returns each household's stored report, or the error that refused it."""
    require_purpose(purpose)
    month = _month_or_error(month)
    check_month_has_data(month)
    today = timezone.localdate()
    out: dict[int, VerificationReport | ServiceError] = {}
    ready = []
    for household in Household.objects.select_related("division").filter(pk__in=household_ids):
        members = current_members(household)
        refusal = _refusal(household, members, today)
        if refusal is not None:
            out[household.pk] = refusal
        else:
            ready.append((household, members))
    keys = [m.person.person_key for _h, members in ready for m in members]
    fetched = check.fetch_inputs(keys, month) if keys else None
    system = policy_system()
    built = []
    for household, members in ready:
        try:
            report = check.build_report(
                household=household,
                members=members,
                month=month,
                purpose=purpose,
                system=system,
                fetched=fetched,
            )
        except engine.PolicyError as exc:
            out[household.pk] = ServiceError(f"policy.{exc.code}", exc.message_zh, field="month")
            continue
        built.append((household, members, report))
    # stored a few at a time: one commit each, the audit chain's lock held briefly
    for start in range(0, len(built), STORE_CHUNK):
        with transaction.atomic():
            for household, members, report in built[start : start + STORE_CHUNK]:
                out[household.pk] = _store(None, household, members, month, purpose, report)
    return out


def _store(actor, household, members, month: str, purpose: str, report: dict):
    with transaction.atomic():
        saved = VerificationReport.objects.create(
            household=household,
            month=month,
            purpose=purpose,
            requested_by=actor,
            complete=report["complete"],
            report=report,
            seconds=report["seconds"],
        )
        audit_record(
            actor=actor,
            action="verification.check",
            object_type="household",
            object_id=household.pk,
            purpose=purpose,
            detail={
                "report": saved.pk,
                "month": month,
                "persons": [m.person.pk for m in members],
                "missing": report["missing"],
            },
        )
    return saved
