"""Reads of the people registry, always scoped to the acting user and audited with a purpose."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone

from dajiuzhu.core import crypto
from dajiuzhu.core.access import (
    AccessDenied,
    NotFound,
    is_admin,
    require_purpose,
    require_role,
    scope_q,
    sees_full_id,
    sees_full_phone,
)
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.errors import ServiceError
from dajiuzhu.core.idnumber import (
    InvalidIdNumber,
    mask_id_number,
    mask_phone,
    parse_id_number,
)
from dajiuzhu.core.models import AuditEvent, User
from dajiuzhu.core.roles import REGISTRY_READ_ROLES
from dajiuzhu.registry.models import Category, HardshipCategory, Household, Membership, Person

# Audit actions shown as a household's history of changes, with their Chinese labels.
HISTORY_ACTIONS = {
    "household.create": "建立家庭户",
    "person.create": "登记人员",
    "membership.add": "加入家庭户",
    "category.add": "登记困难类别",
    "person.status": "变更人口状态",
    "registry.hukou_sync": "户籍数据同步",
}


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


@dataclass
class CategoryView:
    code: str
    label: str
    start_date: date
    end_date: date | None
    current: bool


@dataclass
class MemberView:
    person_id: int
    name: str
    sex: str
    birth_date: date
    age: int
    relation: str
    id_number: str  # masked unless the viewer's role needs it whole
    phone: str
    status: str
    hukou_division: str
    categories: list[CategoryView] = field(default_factory=list)


@dataclass
class HistoryEntry:
    at: object
    action: str
    label: str
    actor: str
    detail: dict


@dataclass
class HouseholdFile:
    household: Household
    members: list[MemberView]
    history: list[HistoryEntry]
    id_numbers_masked: bool


def _households_in_scope(user: User) -> QuerySet[Household]:
    require_role(user, REGISTRY_READ_ROLES)
    return Household.objects.filter(scope_q(user, "division__code"))


def _persons_in_scope(user: User) -> QuerySet[Person]:
    require_role(user, REGISTRY_READ_ROLES)
    return Person.objects.filter(
        scope_q(user, "hukou_division__code") | scope_q(user, "residence_division__code")
    )


def display_id_number(user: User, person: Person) -> str:
    number = crypto.decrypt(person.id_number_enc, field="person.id_number")
    return number if sees_full_id(user) else mask_id_number(number)


def id_numbers_for_keys(
    *, actor: User | None, keys: Iterable[int], purpose: str, reason: str
) -> dict[int, str]:
    """Re-identify pseudonymised persons for an export: ``person_key`` → full ID number, for the
    persons the registry knows. The registry is the only place a ``person_key`` becomes a person
    again; only administrators and the roles that see full ID numbers (or the CLI,
    ``actor=None``) may, and the read is audited with its purpose, its reason and how many
    persons it named."""
    if actor is not None and not (is_admin(actor) or sees_full_id(actor)):
        raise AccessDenied("您的角色无权导出完整身份证号码")
    require_purpose(purpose)
    wanted = list(set(keys))
    numbers: dict[int, str] = {}
    for start in range(0, len(wanted), 5000):
        for key, blob in Person.objects.filter(
            person_key__in=wanted[start : start + 5000]
        ).values_list("person_key", "id_number_enc"):
            numbers[key] = crypto.decrypt(blob, field="person.id_number")
    audit_record(
        actor=actor,
        action="person.reidentify",
        object_type="person",
        object_id="*",
        purpose=purpose,
        label=None if actor else "cli",
        detail={"reason": reason, "asked": len(wanted), "found": len(numbers)},
    )
    return numbers


def display_phone(user: User, person: Person) -> str:
    if not person.phone_enc:
        return ""
    phone = crypto.decrypt(person.phone_enc, field="person.phone")
    return phone if sees_full_phone(user) else mask_phone(phone)


def household_get(*, user: User, household_id: int) -> Household:
    household = (
        _households_in_scope(user).select_related("division").filter(pk=household_id).first()
    )
    if household is None:
        raise NotFound
    return household


def household_file(*, user: User, household_id: int, purpose: str) -> HouseholdFile:
    """The household file (一户一档): members, categories with dates, history. Audited."""
    require_purpose(purpose)
    household = household_get(user=user, household_id=household_id)
    today = timezone.localdate()
    memberships = (
        Membership.objects.filter(household=household, end_date__isnull=True)
        .select_related("person", "person__hukou_division")
        .order_by("start_date", "pk")
    )
    person_ids = [m.person_id for m in memberships]
    categories: dict[int, list[CategoryView]] = {}
    for c in HardshipCategory.objects.filter(person_id__in=person_ids).order_by("-start_date"):
        categories.setdefault(c.person_id, []).append(
            CategoryView(
                code=c.category,
                label=c.get_category_display(),
                start_date=c.start_date,
                end_date=c.end_date,
                current=c.end_date is None or c.end_date >= today,
            )
        )
    members = [
        MemberView(
            person_id=m.person_id,
            name=m.person.name,
            sex=m.person.get_sex_display(),
            birth_date=m.person.birth_date,
            age=age_on(m.person.birth_date, today),
            relation=m.get_relation_display(),
            id_number=display_id_number(user, m.person),
            phone=display_phone(user, m.person),
            status=m.person.get_status_display(),
            hukou_division=m.person.hukou_division.name,
            categories=categories.get(m.person_id, []),
        )
        for m in memberships
    ]
    members.sort(key=lambda mv: (mv.relation != "户主", mv.birth_date))
    events = AuditEvent.objects.filter(
        Q(object_type="household", object_id=str(household.pk))
        | Q(object_type="person", object_id__in=[str(p) for p in person_ids]),
        action__in=list(HISTORY_ACTIONS),
    ).order_by("-id")[:100]
    category_labels = dict(Category.choices)
    history = [
        HistoryEntry(
            at=e.at,
            action=e.action,
            label=HISTORY_ACTIONS[e.action]
            + (
                f"({category_labels.get(e.detail.get('category'), '')})"
                if e.action == "category.add"
                else ""
            ),
            actor=e.actor_label.split(":")[0],
            detail=e.detail,
        )
        for e in events
    ]
    audit_record(
        actor=user,
        action="household.view",
        object_type="household",
        object_id=household.pk,
        purpose=purpose,
        detail={"persons": person_ids, "full_id": sees_full_id(user)},
    )
    return HouseholdFile(
        household=household,
        members=members,
        history=history,
        id_numbers_masked=not sees_full_id(user),
    )


@dataclass
class HouseholdRow:
    id: int
    household_no: str
    division: str
    head_name: str
    members: int


def household_search(
    *, user: User, query: str = "", purpose: str, limit: int = 50
) -> list[HouseholdRow]:
    """Search households in scope by household number, member name or exact ID number."""
    require_purpose(purpose)
    households = _households_in_scope(user).select_related("division")
    query = (query or "").strip()[:50]
    kind = "all"
    if query:
        try:
            parsed = parse_id_number(query)
        except InvalidIdNumber:
            parsed = None
        if parsed is not None:
            kind = "id_number"
            households = households.filter(
                memberships__end_date__isnull=True,
                memberships__person__id_index=crypto.id_index(parsed.number),
            )
        else:
            kind = "text"
            households = households.filter(
                Q(household_no__startswith=query)
                | Q(memberships__end_date__isnull=True, memberships__person__name__startswith=query)
            ).distinct()
    found = list(households.order_by("household_no")[:limit])
    heads: dict[int, str] = {}
    counts: dict[int, int] = {}
    for m in Membership.objects.filter(
        household_id__in=[h.pk for h in found], end_date__isnull=True
    ).select_related("person"):
        counts[m.household_id] = counts.get(m.household_id, 0) + 1
        if m.relation == "head":
            heads[m.household_id] = m.person.name
    rows = [
        HouseholdRow(
            id=h.pk,
            household_no=h.household_no,
            division=h.division.name,
            head_name=heads.get(h.pk, ""),
            members=counts.get(h.pk, 0),
        )
        for h in found
    ]
    audit_record(
        actor=user,
        action="household.search",
        object_type="household",
        object_id="*",
        purpose=purpose,
        detail={"kind": kind, "results": [r.id for r in rows]},
    )
    return rows


def person_lookup(*, user: User, id_number: str, purpose: str) -> Person:
    """Exact lookup by ID number through the blind index, within scope. Audited."""
    require_purpose(purpose)
    try:
        parsed = parse_id_number(id_number)
    except InvalidIdNumber as exc:
        raise ServiceError(exc.code, exc.message, field="id_number") from None
    person = (
        _persons_in_scope(user)
        .select_related("hukou_division")
        .filter(id_index=crypto.id_index(parsed.number))
        .first()
    )
    if person is None:
        raise NotFound
    audit_record(
        actor=user,
        action="person.lookup",
        object_type="person",
        object_id=person.pk,
        purpose=purpose,
    )
    return person


def person_get(*, user: User, person_id: int, purpose: str) -> Person:
    require_purpose(purpose)
    person = _persons_in_scope(user).select_related("hukou_division").filter(pk=person_id).first()
    if person is None:
        raise NotFound
    audit_record(
        actor=user, action="person.view", object_type="person", object_id=person.pk, purpose=purpose
    )
    return person


def person_current_household(*, person: Person) -> Household | None:
    m = (
        Membership.objects.filter(person=person, end_date__isnull=True)
        .select_related("household")
        .first()
    )
    return m.household if m else None
