"""Writes of the people registry. One function per action, atomic and audited.

The actor must hold a registry-writing role and the record must lie in the actor's scope;
``actor=None`` is the platform itself (ingestion of the 户籍 dataset, the synthetic loader).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import transaction

from dajiuzhu.core import crypto
from dajiuzhu.core.access import NotFound, division_in_scope, require_role
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.errors import ServiceError
from dajiuzhu.core.idnumber import (
    InvalidIdNumber,
    InvalidPhone,
    normalise_phone,
    parse_id_number,
)
from dajiuzhu.core.models import Division, User
from dajiuzhu.core.roles import REGISTRY_WRITE_ROLES, Purpose
from dajiuzhu.core.text import has_control_chars
from dajiuzhu.registry import bulk
from dajiuzhu.registry.models import (
    Category,
    HardshipCategory,
    Household,
    Membership,
    Person,
    PersonStatus,
    Relation,
)

NAME_MAX = 50


def _check_writer(actor: User | None, division_code: str) -> None:
    if actor is None:
        return
    require_role(actor, REGISTRY_WRITE_ROLES)
    if not division_in_scope(actor, division_code):
        raise NotFound


def _refuse_duplicate(actor: User | None, divisions: list[str | None], error: ServiceError):
    """A record with that ID number (household number) exists. Say so only to a user who may
    see it; anyone else gets exactly what a look-up answers for a record outside their scope
    (404 not_found), so that creation is no oracle of who is registered elsewhere. Such a person
    comes into the user's jurisdiction through the 户籍 data (a registered move), not here."""
    if actor is None or any(division_in_scope(actor, code) for code in divisions):
        raise error
    raise NotFound


def _division(code: str | None, *, field: str) -> Division:
    division = Division.objects.filter(code=code or "").first()
    if division is None:
        raise ServiceError("division.unknown", f"区划代码不存在:{code or '(空)'}", field=field)
    return division


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ServiceError("person.name_required", "姓名不能为空", field="name")
    if len(name) > NAME_MAX:
        raise ServiceError("person.name_too_long", f"姓名不能超过{NAME_MAX}个字", field="name")
    _refuse_control_chars(name, field="name", label="姓名", single_line=True)
    return name


def _refuse_control_chars(text: str, *, field: str, label: str, single_line: bool) -> None:
    """NUL and other control characters never reach the registry (PostgreSQL refuses NUL
    outright; the others corrupt pages and exports). The message does not repeat the value."""
    if has_control_chars(text, single_line=single_line):
        raise ServiceError(
            f"{field}.control_chars",
            f"{label}含有控制字符(如 NUL{'、换行' if single_line else ''}),请删除后重试",
            field=field,
        )


@transaction.atomic
def person_create(
    *,
    actor: User | None,
    id_number: str,
    name: str,
    hukou_division_code: str,
    residence_division_code: str | None = None,
    phone: str | None = None,
    status: str = PersonStatus.NORMAL,
) -> Person:
    try:
        parsed = parse_id_number(id_number)
    except InvalidIdNumber as exc:
        raise ServiceError(exc.code, exc.message, field="id_number") from None
    name = _clean_name(name)
    hukou = _division(hukou_division_code, field="hukou_division")
    residence = (
        _division(residence_division_code, field="residence_division")
        if residence_division_code
        else None
    )
    digest = crypto.id_digest(parsed.number)
    # Looked up before the scope check, so that both refusals below cost the same work.
    existing = (
        Person.objects.filter(id_index=digest.hex())
        .only("pk", "hukou_division_id", "residence_division_id")
        .first()
    )
    _check_writer(actor, hukou.code)
    if status not in PersonStatus.values:
        raise ServiceError("person.status", "人口状态不正确", field="status")
    if existing is not None:
        _refuse_duplicate(
            actor,
            [existing.hukou_division_id, existing.residence_division_id],
            ServiceError("person.duplicate", "该身份证号码已登记", field="id_number"),
        )
    person = Person(
        id_number_enc=crypto.encrypt(parsed.number, field="person.id_number"),
        id_index=digest.hex(),
        person_key=crypto.person_key_from_digest(digest),
        name=name,
        sex=parsed.sex,
        birth_date=parsed.birth_date,
        hukou_division=hukou,
        residence_division=residence,
        status=status,
    )
    if phone:
        try:
            phone = normalise_phone(phone)
        except InvalidPhone as exc:
            raise ServiceError(exc.code, exc.message, field="phone") from None
        person.phone_enc = crypto.encrypt(phone, field="person.phone")
        person.phone_index = crypto.phone_index(phone)
    person.save()
    audit_record(
        actor=actor,
        action="person.create",
        object_type="person",
        object_id=person.pk,
        purpose=Purpose.CASEWORK,
        detail={"hukou_division": hukou.code},
    )
    return person


@transaction.atomic
def household_create(
    *, actor: User | None, household_no: str, division_code: str, address: str = ""
) -> Household:
    household_no = (household_no or "").strip()
    if not household_no or len(household_no) > 30:
        raise ServiceError(
            "household.number", "户号不能为空,且不超过30个字符", field="household_no"
        )
    if len(address or "") > 200:
        raise ServiceError("household.address", "地址不能超过200个字", field="address")
    _refuse_control_chars(household_no, field="household_no", label="户号", single_line=True)
    _refuse_control_chars(address or "", field="address", label="地址", single_line=False)
    division = _division(division_code, field="division")
    existing = Household.objects.filter(household_no=household_no).only("division_id").first()
    _check_writer(actor, division.code)
    if existing is not None:
        _refuse_duplicate(
            actor,
            [existing.division_id],
            ServiceError("household.duplicate", "该户号已存在", field="household_no"),
        )
    household = Household.objects.create(
        household_no=household_no, division=division, address=address or ""
    )
    audit_record(
        actor=actor,
        action="household.create",
        object_type="household",
        object_id=household.pk,
        purpose=Purpose.CASEWORK,
        detail={"division": division.code},
    )
    return household


@transaction.atomic
def membership_add(
    *,
    actor: User | None,
    household: Household,
    person: Person,
    relation: str,
    start_date: date,
) -> Membership:
    _check_writer(actor, household.division_id)
    if relation not in Relation.values:
        raise ServiceError("membership.relation", "与户主关系不正确", field="relation")
    current = (
        Membership.objects.select_for_update().filter(person=person, end_date__isnull=True).first()
    )
    if current is not None and current.household_id == household.pk:
        raise ServiceError("membership.duplicate", "该人员已是本户成员", field="person")
    if current is not None:
        if start_date < current.start_date:
            raise ServiceError(
                "membership.dates", "起始日期早于该人员在原户的起始日期", field="start_date"
            )
        current.end_date = start_date
        current.save(update_fields=["end_date"])
    membership = Membership.objects.create(
        household=household, person=person, relation=relation, start_date=start_date
    )
    audit_record(
        actor=actor,
        action="membership.add",
        object_type="household",
        object_id=household.pk,
        purpose=Purpose.CASEWORK,
        detail={
            "person": person.pk,
            "relation": relation,
            "start": start_date.isoformat(),
            "moved_from": current.household_id if current else None,
        },
    )
    return membership


@transaction.atomic
def category_add(
    *,
    actor: User | None,
    person: Person,
    category: str,
    start_date: date,
    end_date: date | None = None,
    source: str = "",
) -> HardshipCategory:
    _check_writer(actor, person.hukou_division_id)
    if category not in Category.values:
        raise ServiceError("category.unknown", "困难类别不正确", field="category")
    if end_date is not None and end_date < start_date:
        raise ServiceError("category.dates", "终止日期不能早于起始日期", field="end_date")
    if HardshipCategory.objects.filter(
        person=person, category=category, start_date=start_date
    ).exists():
        raise ServiceError("category.duplicate", "该类别在同一起始日期已登记", field="start_date")
    entry = HardshipCategory.objects.create(
        person=person,
        category=category,
        start_date=start_date,
        end_date=end_date,
        source=(source or "")[:60],
    )
    audit_record(
        actor=actor,
        action="category.add",
        object_type="person",
        object_id=person.pk,
        purpose=Purpose.CASEWORK,
        detail={
            "category": category,
            "start": start_date.isoformat(),
            "end": end_date.isoformat() if end_date else None,
        },
    )
    return entry


@transaction.atomic
def person_set_status(
    *, actor: User | None, person: Person, status: str, death_date: date | None = None
) -> Person:
    _check_writer(actor, person.hukou_division_id)
    if status not in PersonStatus.values:
        raise ServiceError("person.status", "人口状态不正确", field="status")
    old = person.status
    person.status = status
    person.death_date = death_date if status == PersonStatus.DECEASED else None
    person.save(update_fields=["status", "death_date", "updated_at"])
    audit_record(
        actor=actor,
        action="person.status",
        object_type="person",
        object_id=person.pk,
        purpose=Purpose.CASEWORK,
        detail={"from": old, "to": status},
    )
    return person


@transaction.atomic
def hukou_sync(*, rows: Iterable[bulk.HukouRow], as_of: date, source: str) -> bulk.SyncCounts:
    """Bring the registry in line with a batch of the 户籍 dataset (公安局): persons, households,
    memberships and status. Rows must already be validated (ingestion quarantines bad ones).
    Audited as one event naming the batch; the lake batch is the per-row provenance."""
    counts = bulk.sync(rows, as_of=as_of)
    audit_record(
        actor=None,
        action="registry.hukou_sync",
        object_type="batch",
        object_id=source,
        purpose=Purpose.ADMINISTRATION,
        detail=vars(counts),
        label="exchange:hukou",
    )
    return counts


@transaction.atomic
def deaths_sync(*, deaths: Iterable[tuple[int, date]], source: str) -> int:
    """Record deaths reported by 公安 (person_key, death_date) in the registry. Audited."""
    changed = bulk.deaths_sync(deaths)
    audit_record(
        actor=None,
        action="registry.deaths_sync",
        object_type="batch",
        object_id=source,
        purpose=Purpose.ADMINISTRATION,
        detail={"persons_changed": changed},
        label="exchange:deaths",
    )
    return changed
