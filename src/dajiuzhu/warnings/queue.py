"""The town's (or district's) queue and the grid worker's task list: reads scoped to the acting
user (``warnings.access``), audited with purpose 预警核查 (names are shown).

The person behind a warning is re-identified through the registry (``person_key``); phones are
masked per role as the registry's selectors do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone

from dajiuzhu.core.access import require_role, scope_q
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.models import Division, DivisionLevel, User
from dajiuzhu.core.roles import Purpose
from dajiuzhu.registry.models import Household, Person
from dajiuzhu.registry.selectors import display_phone
from dajiuzhu.warnings.access import READ_ROLES, warnings_visible
from dajiuzhu.warnings.models import OPEN_STATUSES, Rule, Status, Warning
from dajiuzhu.warnings.rules import RULES

# Age filter of the queue: days since the warning was pushed.
AGES = {"0-3": (0, 3), "4-10": (4, 10), "11-30": (11, 30), "31+": (31, None)}
AGE_LABELS = {"0-3": "3天内", "4-10": "4–10天", "11-30": "11–30天", "31+": "30天以上"}
UNKNOWN_PERSON = "(人员库中暂无此人)"
MAX_LIST = 500


def readable(user: User) -> QuerySet[Warning]:
    """The warnings the user may read: a reading role, and the warning in their scope."""
    require_role(user, READ_ROLES)
    return warnings_visible(user)


def is_overdue(w: Warning, today: date | None = None) -> bool:
    return w.status in OPEN_STATUSES and w.due_date < (today or timezone.localdate())


def persons_by_key(keys: set[int]) -> dict[int, Person]:
    people = {}
    key_list = list(keys)
    for start in range(0, len(key_list), 500):
        for p in Person.objects.filter(person_key__in=key_list[start : start + 500]):
            people[p.person_key] = p
    return people


def evidence_summary(w: Warning) -> str:
    """One line of the evidence for lists and the task cards (the rule's own headline)."""
    return RULES[w.rule].summary_line(w.evidence or {}, w.year)


@dataclass
class QueueFilters:
    rule: str = ""
    status: str = ""
    age: str = ""
    community: str = ""
    year: int | None = None
    escalated: bool = False
    mine: bool = False

    @classmethod
    def parse(cls, params: Any) -> QueueFilters:
        rule = (params.get("rule") or "").strip().upper()
        status = (params.get("status") or "").strip()
        age = (params.get("age") or "").strip()
        community = (params.get("community") or "").strip()
        year = (params.get("year") or "").strip()
        return cls(
            rule=rule if rule in Rule.values else "",
            status=status if status in [*Status.values, "overdue", "open"] else "",
            age=age if age in AGES else "",
            community=community if community.isdigit() and len(community) <= 15 else "",
            year=int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else None,
            escalated=(params.get("escalated") or "") in ("1", "true", "on"),
            mine=(params.get("mine") or "") in ("1", "true", "on"),
        )


@dataclass
class WarningRow:
    id: int
    rule: str
    rule_label: str
    year: int
    status: str
    status_label: str
    pushed_at: datetime
    due_date: date
    overdue: bool
    escalated: bool
    town: str
    community: str
    household_no: str
    person_name: str
    assignee: str
    amount: Decimal | None
    event_ref: str
    event_date: date | None
    age_days: int
    outcome: str
    outcome_label: str
    basis_note: str


def _filtered(user: User, f: QueueFilters) -> QuerySet[Warning]:
    qs = readable(user)
    today = timezone.localdate()
    if f.rule:
        qs = qs.filter(rule=f.rule)
    if f.status == "overdue":
        qs = qs.filter(status__in=OPEN_STATUSES, due_date__lt=today)
    elif f.status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif f.status:
        qs = qs.filter(status=f.status)
    else:
        qs = qs.exclude(status=Status.WITHDRAWN)
    if f.age:
        low, high = AGES[f.age]
        now = timezone.now()
        qs = qs.filter(pushed_at__lte=now - timedelta(days=low))
        if high is not None:
            qs = qs.filter(pushed_at__gt=now - timedelta(days=high + 1))
    if f.community:
        qs = qs.filter(division_code__startswith=f.community)
    if f.year:
        qs = qs.filter(year=f.year)
    if f.escalated:
        qs = qs.filter(escalated=True)
    if f.mine:
        qs = qs.filter(assignee=user)
    return qs


def _rows(user: User, warnings: list[Warning]) -> list[WarningRow]:
    today = timezone.localdate()
    people = persons_by_key({w.person_key for w in warnings})
    rows = []
    for w in warnings:
        person = people.get(w.person_key)
        rows.append(
            WarningRow(
                id=w.pk,
                rule=w.rule,
                rule_label=w.get_rule_display(),
                year=w.year,
                status=w.status,
                status_label=w.get_status_display(),
                pushed_at=w.pushed_at,
                due_date=w.due_date,
                overdue=is_overdue(w, today),
                escalated=w.escalated,
                town=w.town.name if w.town is not None else "(未能分派)",
                community=w.division_code if len(w.division_code) > 9 else "",
                household_no=w.household_no,
                person_name=person.name if person else UNKNOWN_PERSON,
                assignee=str(w.assignee) if w.assignee_id else "",
                amount=w.amount,
                event_ref=w.event_ref,
                event_date=w.event_date,
                age_days=(today - timezone.localdate(w.pushed_at)).days,
                outcome=w.outcome,
                outcome_label=w.get_outcome_display() if w.outcome else "",
                basis_note=w.basis_note,
            )
        )
    return rows


def warning_list(
    *, user: User, filters: QueueFilters, limit: int = 100, offset: int = 0
) -> tuple[list[WarningRow], int]:
    """The queue: escalated first, then overdue, then by deadline. Audited (names shown)."""
    qs = _filtered(user, filters)
    total = qs.count()
    today = timezone.localdate()
    ordered = qs.select_related("town", "assignee").order_by(
        "-escalated",
        Case(
            When(status__in=OPEN_STATUSES, due_date__lt=today, then=Value(0)),
            When(status__in=OPEN_STATUSES, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        ),
        "due_date",
        "-id",
    )
    limit = max(1, min(limit, MAX_LIST))
    warnings = list(ordered[offset : offset + limit])
    rows = _rows(user, warnings)
    if rows:
        audit_record(
            actor=user,
            action="warning.list",
            object_type="warning",
            object_id="*",
            purpose=Purpose.WARNING,
            detail={"warnings": [r.id for r in rows]},
        )
    return rows, total


def communities(user: User) -> list[Division]:
    """Communities the user may filter by (those under the user's scope)."""
    if not user.scope_id:
        return []
    qs = Division.objects.filter(level=DivisionLevel.COMMUNITY).filter(scope_q(user, "code"))
    return list(qs.select_related("parent").order_by("code")[:300])


@dataclass
class TaskCard:
    id: int
    rule_label: str
    status: str
    status_label: str
    due_date: date
    overdue: bool
    person_name: str
    phone: str
    household_no: str
    address: str
    summary: str
    outcome: str
    programme_code: str
    notes: str


def task_list(*, user: User) -> list[TaskCard]:
    """The worker's mobile task list: warnings assigned to them that are not closed."""
    require_role(user, READ_ROLES)
    warnings = list(
        Warning.objects.filter(
            assignee=user, status__in=[Status.ASSIGNED, Status.INVESTIGATED]
        ).order_by("status", "due_date", "id")[:200]
    )
    people = persons_by_key({w.person_key for w in warnings})
    homes = {
        h.household_no: h
        for h in Household.objects.filter(household_no__in={w.household_no for w in warnings})
    }
    today = timezone.localdate()
    cards = []
    for w in warnings:
        person = people.get(w.person_key)
        home = homes.get(w.household_no)
        cards.append(
            TaskCard(
                id=w.pk,
                rule_label=w.get_rule_display(),
                status=w.status,
                status_label=w.get_status_display(),
                due_date=w.due_date,
                overdue=is_overdue(w, today),
                person_name=person.name if person else UNKNOWN_PERSON,
                phone=display_phone(user, person) if person else "",
                household_no=w.household_no,
                address=home.address if home else "",
                summary=evidence_summary(w),
                outcome=w.outcome,
                programme_code=w.programme_code,
                notes=w.notes,
            )
        )
    if cards:
        audit_record(
            actor=user,
            action="warning.tasks",
            object_type="warning",
            object_id="*",
            purpose=Purpose.WARNING,
            detail={"warnings": [c.id for c in cards]},
        )
    return cards
