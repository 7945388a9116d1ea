"""Reads of the care centre, always scoped to the acting user; a person's file (plan, contacts,
device history) is audited with its purpose."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import QuerySet, Sum
from django.utils import timezone

from dajiuzhu.care import access, services
from dajiuzhu.care.access import (
    access_alarm_by_id,
    alarms_visible,
    devices_visible,
    plans_visible,
    visits_visible,
)
from dajiuzhu.care.figures import Row, alarm_figures
from dajiuzhu.care.models import (
    Alarm,
    AlarmStatus,
    AwaySpell,
    Device,
    DeviceEvent,
    EscalationReason,
    Plan,
    Rejection,
    RejectReason,
    Visit,
    VisitStatus,
)
from dajiuzhu.care.parameters import care_parameters
from dajiuzhu.core.access import NotFound, require_purpose, require_role, scope_q
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Role
from dajiuzhu.registry.models import HardshipCategory, Person
from dajiuzhu.registry.selectors import display_id_number, display_phone

RECENT_EVENTS = 30


def alarms_open(*, user: User, technical: bool = False) -> QuerySet[Alarm]:
    return (
        alarms_visible(user)
        .filter(technical=technical)
        .exclude(status=AlarmStatus.CLOSED)
        .select_related("person", "device", "accepted_by")
        .order_by("status", "-raised_at", "-id")
    )


def alarms_recent_closed(*, user: User, limit: int = 20) -> list[Alarm]:
    return list(
        alarms_visible(user)
        .filter(technical=False, status=AlarmStatus.CLOSED)
        .select_related("person", "accepted_by")
        .order_by("-closed_at")[:limit]
    )


def alarm_last_id(*, user: User) -> int:
    last = alarms_visible(user).filter(technical=False).order_by("-pk").first()
    return last.pk if last else 0


def alarms_after(*, user: User, after_id: int) -> list[Alarm]:
    """People's alarms recorded after ``after_id`` (the console's live stream)."""
    return list(
        alarms_visible(user)
        .filter(technical=False, pk__gt=after_id)
        .select_related("person")
        .order_by("pk")[:50]
    )


def alarm_get(*, user: User, alarm_id: int) -> Alarm:
    alarm = access_alarm_by_id(user, alarm_id)
    return Alarm.objects.select_related("person", "device", "accepted_by").get(pk=alarm.pk)


def overdue(alarm: Alarm, now: datetime | None = None) -> bool:
    """Not accepted within ``care.escalation_seconds`` of appearing (shown as escalated at once;
    the worker records the escalation)."""
    if alarm.accepted_by_id or alarm.technical:
        return False
    now = now or timezone.now()
    seconds = care_parameters(timezone.localdate(now)).escalation_seconds
    return alarm.escalated or now - alarm.created_at > timedelta(seconds=seconds)


def escalated_to_me(*, user: User, now: datetime | None = None) -> list[Alarm]:
    """People's alarms escalated to ``user`` (a duty supervisor or a second-group operator of
    their jurisdiction): not accepted ``care.escalation_seconds`` after appearing, from that
    moment on (the worker's record of the escalation may follow up to a minute later)."""
    if access.escalation_reason(user) is None:
        return []
    now = now or timezone.now()
    seconds = care_parameters(timezone.localdate(now)).escalation_seconds
    return list(
        alarms_visible(user)
        .filter(
            technical=False,
            accepted_by__isnull=True,
            created_at__lte=now - timedelta(seconds=seconds),
        )
        .exclude(status=AlarmStatus.CLOSED)
        .select_related("person", "device")
        .order_by("created_at", "pk")[:50]
    )


def escalations_due_between(*, user: User, since: datetime, until: datetime) -> list[Alarm]:
    """The alarms escalated to ``user`` whose escalation fell due in (since, until] (the
    console's stream announces each once while connected)."""
    if access.escalation_reason(user) is None:
        return []
    seconds = timedelta(seconds=care_parameters(timezone.localdate(until)).escalation_seconds)
    return list(
        alarms_visible(user)
        .filter(
            technical=False,
            accepted_by__isnull=True,
            created_at__gt=since - seconds,
            created_at__lte=until - seconds,
        )
        .exclude(status=AlarmStatus.CLOSED)
        .select_related("person")
        .order_by("created_at", "pk")[:50]
    )


def escalation_targets(alarm: Alarm) -> list[str]:
    """Who the alarm was (or, when due and not yet recorded, is being) escalated to."""
    recorded = [
        f"{e.get_reason_display()} {e.user.get_full_name() or e.user.username}"
        for e in alarm.escalations.select_related("user").order_by("reason", "user__username")
    ]
    if recorded or alarm.escalated:
        return recorded
    return [
        f"{dict(EscalationReason.choices)[reason]} {u.get_full_name() or u.username}"
        for u, reason in access.escalation_recipients(alarm.division_code)
    ]


@dataclass
class PersonFile:
    person: Person
    id_number: str
    phone: str
    categories: list[str]
    plan: Plan | None
    contacts: list[dict]
    devices: list[Device]
    events: list[DeviceEvent]
    away: bool
    alarms: list[Alarm]
    visits: list[Visit]


def person_file(*, user: User, person_id: int, purpose: str) -> PersonFile:
    """The person's care file: plan, contacts, devices and recent device history. Audited."""
    require_purpose(purpose)
    require_role(user, access.PLAN_READ_ROLES)
    person = (
        Person.objects.filter(
            scope_q(user, "hukou_division__code") | scope_q(user, "residence_division__code")
        )
        .filter(pk=person_id)
        .first()
    )
    if person is None:
        raise NotFound
    audit_record(
        actor=user,
        action="care.person.view",
        object_type="person",
        object_id=person.pk,
        purpose=purpose,
    )
    today = timezone.localdate()
    plan = plans_visible(user).filter(person=person).order_by("-version").first()
    categories = [
        c.get_category_display()
        for c in HardshipCategory.objects.filter(person=person, start_date__lte=today).exclude(
            end_date__lt=today
        )
    ]
    return PersonFile(
        person=person,
        id_number=display_id_number(user, person),
        phone=display_phone(user, person),
        categories=categories,
        plan=plan,
        contacts=services.plan_contacts(plan) if plan else [],
        devices=list(devices_visible(user).filter(person=person)),
        events=list(
            DeviceEvent.objects.filter(person=person)
            .select_related("device")
            .order_by("-at")[:RECENT_EVENTS]
        ),
        away=AwaySpell.objects.filter(person=person, end__isnull=True).exists(),
        alarms=list(alarms_visible(user).filter(person=person).order_by("-raised_at")[:10]),
        visits=list(visits_visible(user).filter(person=person).order_by("-dispatched_at")[:10]),
    )


def plan_versions(*, user: User, person_id: int) -> list[Plan]:
    return list(plans_visible(user).filter(person_id=person_id).order_by("-version"))


def devices_list(*, user: User, limit: int = 200) -> list[Device]:
    return list(devices_visible(user).select_related("person").order_by("device_id")[:limit])


def rejection_counts(*, user: User, days: int = 7) -> list[dict]:
    """Rejected messages per reason over the last ``days`` (city-wide counters: a rejected
    message may name no known device, so it has no division)."""
    require_role(user, {Role.CALL_OPERATOR, Role.SUPERVISOR, Role.ADMIN})
    since = timezone.localdate() - timedelta(days=days - 1)
    totals = dict(
        Rejection.objects.filter(day__gte=since)
        .values_list("reason")
        .annotate(total=Sum("count"))
        .values_list("reason", "total")
    )
    return [
        {"reason": code, "label": label, "count": totals.get(code, 0)}
        for code, label in RejectReason.choices
    ]


def my_visits(*, user: User) -> list[Visit]:
    """The user's visits: open ones first (alarms' before planned, then by due date); a
    planned visit past its due date is flagged overdue, like an overdue warning."""
    require_role(user, {Role.GRID_WORKER, Role.CASEWORKER, Role.WINDOW_CLERK})
    today = timezone.localdate()
    visits = list(
        Visit.objects.filter(assignee=user)
        .select_related("person", "alarm")
        .order_by("status", "due_date", "-dispatched_at")[:100]
    )
    for v in visits:
        v.overdue = v.status == VisitStatus.OPEN and v.due_date < today
    visits.sort(key=lambda v: (v.status != VisitStatus.OPEN, v.alarm_id is None, v.due_date))
    return visits


def grid_workers(*, division_code: str) -> list[User]:
    users = User.objects.filter(role=Role.GRID_WORKER, is_active=True).order_by("username")
    return [u for u in users if u.scope_prefix and division_code.startswith(u.scope_prefix)]


def figures(*, user: User, day: date) -> Row:
    """The alarm-receiving figures of one local day (the console's panel); see ``figures``."""
    return alarm_figures(user=user, start=day, end=day).total


@dataclass
class HouseholdPlan:
    person_id: int
    name: str
    categories: list[str]
    plan: Plan | None


def household_plans(*, user: User, person_ids: list[int]) -> list[HouseholdPlan] | None:
    """For the household file: each member's latest care plan, and the members of the
    special-hardship population without one. None for a role that reads no plans. (The
    household page itself is the audited read of these people.)"""
    from dajiuzhu.care.population import CARE_CATEGORIES, _current_categories

    if user.role not in access.PLAN_READ_ROLES:
        return None
    today = timezone.localdate()
    latest: dict[int, Plan] = {}
    for plan in plans_visible(user).filter(person_id__in=person_ids).order_by("version"):
        latest[plan.person_id] = plan
    categories: dict[int, list[str]] = {}
    for c in _current_categories(today, CARE_CATEGORIES).filter(person_id__in=person_ids):
        categories.setdefault(c.person_id, []).append(c.get_category_display())
    names = dict(Person.objects.filter(pk__in=person_ids).values_list("pk", "name"))
    return [
        HouseholdPlan(
            person_id=pk,
            name=names.get(pk, ""),
            categories=categories.get(pk, []),
            plan=latest.get(pk),
        )
        for pk in person_ids
        if pk in latest or pk in categories
    ]
