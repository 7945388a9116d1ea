"""One warning's page: the warning with its evidence, what the lake says now (the rule's own
lake evidence query, the household's members, current assistance), the household's members
from the registry and the warning's history. A read scoped to the acting user
(``warnings.access``) and audited with purpose 预警核查, the household read as well.

Evidence read from the lake is limited to the fields the dataset's contract opens for the
warning purpose (``rulespec.allowed``); names and ID numbers are masked per role as the
registry's selectors do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from dajiuzhu.core.access import require_role
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.models import AuditEvent, User
from dajiuzhu.core.roles import Purpose
from dajiuzhu.exchange.contracts import get_contract
from dajiuzhu.registry.models import Household, Membership, Person
from dajiuzhu.registry.selectors import age_on, display_id_number, display_phone
from dajiuzhu.warnings.access import (
    ASSIGNEE_ROLES,
    ASSIGNER_ROLES,
    READ_ROLES,
    access_warning_by_id,
    can_be_assignee,
)
from dajiuzhu.warnings.models import OPEN_STATUSES, Status, Warning
from dajiuzhu.warnings.programmes import programme_label
from dajiuzhu.warnings.queue import UNKNOWN_PERSON, is_overdue
from dajiuzhu.warnings.rules import RULES
from dajiuzhu.warnings.rulespec import LakeEvidence, allowed


def warning_get(*, user: User, warning_id: int) -> Warning:
    """The warning, for a user of a reading role whose scope holds it (NotFound otherwise)."""
    require_role(user, READ_ROLES)
    return access_warning_by_id(user, warning_id)


@dataclass
class MemberLine:
    name: str
    relation: str
    age: int | None
    id_number: str
    phone: str
    status: str
    is_subject: bool


@dataclass
class AssistanceLine:
    programme: str
    member: str
    start_date: date
    end_date: date | None


HISTORY_ACTIONS = {
    "warning.assign": "派发核查",
    "warning.outcome": "登记核查结果",
    "warning.outcome_change": "修改核查结果",
    "warning.close": "办结",
}


@dataclass
class HistoryLine:
    at: datetime
    label: str
    actor: str


@dataclass
class WarningDetail:
    warning: Warning
    person_known: bool
    person_name: str
    person_id_number: str
    person_status: str
    household: Household | None
    members: list[MemberLine]
    assistance: list[AssistanceLine]
    monthly: list[dict[str, Any]]  # medical: month x claim type
    monthly_total: Decimal | None
    event_rows: list[dict[str, Any]]
    evidence_lines: list[tuple[str, str]]
    event_titles: list[str]
    event_values: list[list[Any]]
    overdue: bool
    can_assign: bool
    can_record: bool
    can_close: bool
    assignees: list[User]
    history: list[HistoryLine] = field(default_factory=list)


@dataclass
class _LakeView:
    rule: LakeEvidence
    assistance: list[dict[str, Any]]


def _lake_evidence(w: Warning, household_keys: set[int]) -> _LakeView:
    """What the lake says now about the warning (DuckDB; a page never waits for Spark): the
    rule's own evidence query, and the current assistance of the household's members (those
    the registry lists and those the 户籍 view lists in the warning's household)."""
    from dajiuzhu.analytics.engine import open_lake

    with open_lake("duckdb", threads=1, memory_limit="256MB") as lake:
        members: set[int] = set()
        if w.household_no:
            hukou = lake.table("hukou")
            listed = hukou.filter(hukou.household_no == w.household_no).select(
                *allowed("hukou", ["person_key"])
            )
            members = {r["person_key"] for r in lake.to_rows(listed)}
        keys = (members | household_keys | {w.person_key}) - {None}
        rule = RULES[w.rule].lake_evidence(lake, w)
        assistance: list[dict[str, Any]] = []
        if keys:
            recipients = lake.table("assistance_recipients")
            allowed(
                "assistance_recipients", ["person_key", "program_code", "start_date", "end_date"]
            )
            today = timezone.localdate()
            current = recipients.filter(
                recipients.person_key.isin(sorted(keys)),
                recipients.start_date <= today,
                recipients.end_date.isnull() | (recipients.end_date >= today),
            ).select("person_key", "program_code", "start_date", "end_date")
            assistance = lake.to_rows(current)
    return _LakeView(rule=rule, assistance=assistance)


def _event_titles(evidence: LakeEvidence) -> list[str]:
    if not evidence.events:
        return []
    titles = {f.lake_name: f.title for f in get_contract(evidence.dataset).fields}
    return [titles.get(k, k) for k in evidence.events[0]]


def warning_detail(*, user: User, warning_id: int) -> WarningDetail:
    """The warning with its evidence, the household's members and current assistance.
    Audited (purpose 预警核查), the household read as well."""
    w = warning_get(user=user, warning_id=warning_id)
    spec = RULES[w.rule]
    person = Person.objects.filter(person_key=w.person_key).select_related("hukou_division").first()
    household = (
        Household.objects.filter(household_no=w.household_no).select_related("division").first()
        if w.household_no
        else None
    )
    memberships = (
        list(
            Membership.objects.filter(household=household, end_date__isnull=True)
            .select_related("person")
            .order_by("start_date", "pk")
        )
        if household
        else []
    )
    today = timezone.localdate()
    members = [
        MemberLine(
            name=m.person.name,
            relation=m.get_relation_display(),
            age=age_on(m.person.birth_date, m.person.death_date or today),
            id_number=display_id_number(user, m.person),
            phone=display_phone(user, m.person),
            status=m.person.get_status_display(),
            is_subject=m.person.person_key == w.person_key,
        )
        for m in memberships
    ]
    members.sort(key=lambda m: (m.relation != "户主", -(m.age or 0)))
    lake = _lake_evidence(w, {m.person.person_key for m in memberships})
    names = {m.person.person_key: m.person.name for m in memberships}
    if person is not None:
        names[person.person_key] = person.name
    assistance = [
        AssistanceLine(
            programme=programme_label(r["program_code"]),
            member=names.get(r["person_key"], UNKNOWN_PERSON),
            start_date=r["start_date"],
            end_date=r["end_date"],
        )
        for r in sorted(lake.assistance, key=lambda r: (r["program_code"], r["start_date"]))
    ]
    monthly = lake.rule.monthly
    events = lake.rule.events
    total = sum((r["out_of_pocket"] for r in monthly), Decimal(0)) if monthly else None
    in_scope = user.role in ASSIGNER_ROLES
    detail = WarningDetail(
        warning=w,
        person_known=person is not None,
        person_name=person.name if person else UNKNOWN_PERSON,
        person_id_number=display_id_number(user, person) if person else "",
        person_status=person.get_status_display() if person else "",
        household=household,
        members=members,
        assistance=assistance,
        monthly=monthly,
        monthly_total=total,
        event_rows=events,
        evidence_lines=spec.fact_lines(w.evidence, w.year),
        event_titles=_event_titles(lake.rule),
        event_values=[[spec.event_value(k, v) for k, v in r.items()] for r in events],
        overdue=is_overdue(w),
        can_assign=in_scope and w.status in OPEN_STATUSES,
        can_record=(w.assignee_id == user.pk or in_scope)
        and w.status in (Status.ASSIGNED, Status.INVESTIGATED),
        can_close=in_scope and w.status == Status.INVESTIGATED,
        assignees=assignable_users(user=user, warning=w) if in_scope else [],
        history=[
            HistoryLine(at=e.at, label=HISTORY_ACTIONS[e.action], actor=e.actor_label.split(":")[0])
            for e in AuditEvent.objects.filter(
                object_type="warning", object_id=str(w.pk), action__in=list(HISTORY_ACTIONS)
            ).order_by("id")
        ],
    )
    audit_record(
        actor=user,
        action="warning.view",
        object_type="warning",
        object_id=w.pk,
        purpose=Purpose.WARNING,
        detail={"rule": w.rule, "person_known": person is not None},
    )
    if household is not None:
        audit_record(
            actor=user,
            action="household.view",
            object_type="household",
            object_id=household.pk,
            purpose=Purpose.WARNING,
            detail={"persons": [m.person_id for m in memberships], "via": f"warning:{w.pk}"},
        )
    return detail


def assignable_users(*, user: User, warning: Warning) -> list[User]:
    require_role(user, ASSIGNER_ROLES)
    town = warning.town_id or warning.division_code[:9]
    if not town:
        return []
    candidates = User.objects.filter(
        is_active=True, role__in=ASSIGNEE_ROLES, scope__code__startswith=town
    ).select_related("scope")
    return [u for u in candidates.order_by("role", "username")[:200] if can_be_assignee(u, warning)]
