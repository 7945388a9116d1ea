"""Reads of the data exchange. Catalog data (batches, quality) is scoped by department;
dataset rows are read only under a sharing agreement and every read is audited."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from dajiuzhu.core import crypto
from dajiuzhu.core.access import (
    AccessDenied,
    NotFound,
    is_admin,
    is_city_wide,
    is_staff_user,
    role_needs_purpose,
)
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.errors import ServiceError
from dajiuzhu.core.idnumber import InvalidIdNumber, parse_id_number
from dajiuzhu.core.models import ApiToken, Department, User
from dajiuzhu.core.roles import Role
from dajiuzhu.exchange import lake
from dajiuzhu.exchange.contracts import (
    CYCLE_LABELS,
    PURPOSE_LABELS,
    Contract,
    all_contracts,
    contract_or_error,
)
from dajiuzhu.exchange.models import Batch, BatchStatus, QuarantineRow, SharingAgreement
from dajiuzhu.exchange.validation import q

CATALOG_WIDE_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AUDITOR})
MAX_PAGE_SIZE = 1000


def contract_list() -> list[Contract]:
    return list(all_contracts().values())


def _batches_for(user: User) -> QuerySet[Batch]:
    if not is_staff_user(user):
        raise AccessDenied
    if user.role in CATALOG_WIDE_ROLES:
        return Batch.objects.all()
    if user.role == Role.DATA_STEWARD:
        return Batch.objects.filter(department_id=user.department_id)
    raise AccessDenied


def can_open_batches(user: User) -> bool:
    """Batch details (and through them quarantine, retraction, resubmission) are for the
    catalogue-wide roles and the department's city-level stewards; a steward below city level
    sees the catalogue and quality figures, and shared rows within their scope."""
    if not is_staff_user(user):
        return False
    if user.role != Role.DATA_STEWARD:
        return True
    return is_city_wide(user)


def batch_list(
    *, user: User, dataset: str | None = None, department: str | None = None, limit: int = 200
) -> list[Batch]:
    qs = _batches_for(user).select_related("department")
    if dataset:
        qs = qs.filter(dataset=dataset)
    if department:
        qs = qs.filter(department_id=department)
    return list(qs.order_by("-id")[:limit])


def batch_get(*, user: User | None = None, token: ApiToken | None = None, batch_id: int) -> Batch:
    if token is not None:
        batch = Batch.objects.filter(pk=batch_id, department_id=token.department_id).first()
    else:
        if user is None:
            raise AccessDenied
        visible = _batches_for(user)  # AccessDenied for a role without a catalogue
        batch = visible.filter(pk=batch_id).first() if can_open_batches(user) else None
    if batch is None:
        raise NotFound
    return batch


@dataclass
class QuarantineView:
    row_number: int
    problems: list[dict]
    values: dict[str, str | None]


def quarantine_rows(
    *,
    user: User | None = None,
    token: ApiToken | None = None,
    batch_id: int,
    with_values: bool,
    limit: int | None = None,
) -> list[QuarantineView]:
    """Quarantined rows of a batch: the delivering department (and administrators) only.
    With values the original (possibly personal) data is decrypted — an audited read."""
    batch = batch_get(user=user, token=token, batch_id=batch_id)
    if user is not None and not (is_admin(user) or user.role == Role.DATA_STEWARD):
        raise AccessDenied  # (batch_get kept stewards to their department's batches, city level)
    rows = QuarantineRow.objects.filter(batch=batch).order_by("row_number")
    if limit:
        rows = rows[:limit]
    out = [
        QuarantineView(
            row_number=r.row_number,
            problems=r.problems,
            values=json.loads(crypto.decrypt(r.raw_enc, field="quarantine.row"))
            if with_values
            else {},
        )
        for r in rows
    ]
    if with_values:
        audit_record(
            actor=user,
            action="exchange.quarantine.read",
            object_type="batch",
            object_id=batch.pk,
            purpose="administration",
            label=None if user or token is None else f"token:{token.prefix}@{token.department_id}",
            detail={"rows": len(out)},
        )
    return out


def quarantine_summary(batch: Batch) -> list[dict]:
    """Counts of problems by field and reason (no personal data)."""
    counts: dict[tuple[str, str], int] = {}
    for problems in QuarantineRow.objects.filter(batch=batch).values_list("problems", flat=True):
        for p in problems:
            key = (p["title"], p["message"])
            counts[key] = counts.get(key, 0) + 1
    return [
        {"field": k[0], "message": k[1], "rows": v}
        for k, v in sorted(counts.items(), key=lambda kv: -kv[1])
    ]


def active_agreement(
    *, department: Department, dataset: str, purpose: str, today: date | None = None
) -> SharingAgreement | None:
    today = today or timezone.localdate()
    for a in SharingAgreement.objects.filter(
        consumer=department,
        dataset=dataset,
        purpose=purpose,
        revoked_at__isnull=True,
        valid_from__lte=today,
    ):
        if a.valid_to is None or a.valid_to >= today:
            return a
    return None


@dataclass
class RowsPage:
    dataset: str
    purpose: str
    fields: list[str]
    rows: list[dict]
    page: int
    page_size: int
    total: int


def _readable_fields(contract: Contract, department: Department, purpose: str) -> list[str]:
    if purpose not in PURPOSE_LABELS:
        raise ServiceError(
            "purpose.unknown", "用途应为 verification、warning 或 supervision", field="purpose"
        )
    allowed = list(contract.purpose_fields(purpose))
    if department.code == contract.owner:
        return allowed or list(contract.lake_columns)  # the owner reads its own data
    agreement = active_agreement(department=department, dataset=contract.dataset, purpose=purpose)
    if agreement is None:
        raise AccessDenied
    return [f for f in allowed if f in agreement.fields]


@dataclass(frozen=True)
class Reader:
    """Who reads shared rows: a department (its token, or a staff member of it) and, for staff,
    the division scope the rows are limited to (None: a department system, not scoped)."""

    department: Department
    actor: User | None
    label: str
    scope_prefix: str | None


STAFF_WITHOUT_DEPARTMENT = "读取共享数据须依据本部门的共享协议,您的账号未设所属部门"


def shared_reader(
    *, actor: User | None, token: ApiToken | None, contract: Contract, purpose: str
) -> Reader:
    """Decide who may read a dataset's shared rows (core.roles.PURPOSE_ROLES):

    * a department token: its department's agreements (or its own dataset), not scoped;
    * a staff member whose role needs the purpose: their department's agreements, and only
      the rows of persons whose 户籍 lies in their division scope;
    * a data steward: the datasets their own department delivers, within their scope;
    * anybody else (residents, administrators, other roles): nothing.
    """
    if token is not None:
        return Reader(token.department, None, f"token:{token.prefix}@{token.department_id}", None)
    if actor is None or not is_staff_user(actor):
        raise AccessDenied
    if actor.role == Role.DATA_STEWARD:
        if actor.department_id != contract.owner:
            raise AccessDenied("部门数据管理员只能读取本部门报送的数据集")
    elif not role_needs_purpose(actor, purpose):
        raise AccessDenied("您的角色不因该用途读取共享数据")
    if actor.department is None:
        raise AccessDenied(STAFF_WITHOUT_DEPARTMENT)
    return Reader(actor.department, actor, "", actor.scope_prefix)


def _scope_clause(contract: Contract, prefix: str) -> tuple[str, list]:
    """Rows of persons whose current 户籍 division lies under ``prefix`` (the lake's 户籍 view
    links person_key to the division; the registry is fed from the same view). A dataset
    without persons but with a division code is limited by that code; one with neither holds
    no personal data."""
    if contract.dataset == "hukou":
        return "division_code LIKE ?", [prefix + "%"]
    if "person_key" in contract.lake_columns:
        hukou = lake.current_sql("hukou")
        return (
            f"person_key IN (SELECT person_key FROM {hukou} WHERE division_code LIKE ?)",
            [prefix + "%"],
        )
    if "division_code" in contract.lake_columns:
        return "division_code LIKE ?", [prefix + "%"]
    return "", []


def dataset_rows(
    *,
    actor: User | None,
    token: ApiToken | None,
    dataset: str,
    purpose: str,
    person_keys: list[int] | None = None,
    division: str | None = None,
    page: int = 1,
    page_size: int = 100,
) -> RowsPage:
    """Rows of a dataset's current view, limited to the fields the agreement allows for the
    purpose and, for staff, to their division scope. No agreement, no data. Audited with the
    purpose."""
    contract = contract_or_error(dataset)
    if purpose not in PURPOSE_LABELS:
        raise ServiceError(
            "purpose.unknown", "用途应为 verification、warning 或 supervision", field="purpose"
        )
    reader = shared_reader(actor=actor, token=token, contract=contract, purpose=purpose)
    department = reader.department
    fields = _readable_fields(contract, department, purpose)
    if not fields:
        raise AccessDenied
    page = max(1, page)
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    where: list[str] = []
    params: list[Any] = []
    if person_keys is not None:
        if "person_key" not in contract.lake_columns:
            raise ServiceError("filter.person", "该数据集不含人员", field="person")
        where.append("person_key IN (SELECT unnest(?::BIGINT[]))")
        params.append(person_keys)
    if division:
        if "division_code" not in contract.lake_columns:
            raise ServiceError("filter.division", "该数据集不含区划代码", field="division")
        if not division.isdigit() or len(division) > 12:
            raise ServiceError("filter.division", "区划代码应为数字", field="division")
        where.append("division_code LIKE ?")
        params.append(division + "%")
    con = lake.connect(threads=2, memory_limit="512MB")
    try:
        if reader.scope_prefix is not None:
            scope_sql, scope_params = _scope_clause(contract, reader.scope_prefix)
            if scope_sql:
                where.append(scope_sql)
                params.extend(scope_params)
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        cols = ", ".join(q(f) for f in fields)
        order = ", ".join(q(k) for k in contract.lake_key)
        view = lake.current_sql(dataset)
        total = con.execute(f"SELECT count(*) FROM {view}{clause}", params).fetchall()[0][0]
        result = con.execute(
            f"SELECT {cols} FROM {view}{clause} ORDER BY {order} LIMIT {page_size} "
            f"OFFSET {(page - 1) * page_size}",
            params,
        )
        names = [d[0] for d in result.description]
        rows = [dict(zip(names, r, strict=True)) for r in result.fetchall()]
    finally:
        con.close()
    audit_record(
        actor=reader.actor,
        action="exchange.rows.read",
        object_type="dataset",
        object_id=dataset,
        purpose=purpose,
        label=None if reader.actor else reader.label,
        detail={
            "department": department.code,
            "fields": fields,
            "rows": len(rows),
            "page": page,
            "filtered_by_person": person_keys is not None,
            "division": division or "",
            "scope": reader.scope_prefix or "",
        },
    )
    return RowsPage(
        dataset=dataset,
        purpose=purpose,
        fields=fields,
        rows=rows,
        page=page,
        page_size=page_size,
        total=total,
    )


def person_keys_for(id_numbers: list[str]) -> list[int]:
    keys = []
    for raw in id_numbers:
        try:
            keys.append(crypto.person_key(parse_id_number(raw).number))
        except InvalidIdNumber as exc:
            raise ServiceError(exc.code, exc.message, field="id_numbers") from None
    return keys


@dataclass
class QualityPoint:
    batch: int
    received_at: object
    rows: int
    completeness: float | None
    validity: float | None
    accuracy: float | None
    timeliness: float | None


def quality_series(
    *, user: User, dataset: str, department: str | None = None, limit: int = 60
) -> list[QualityPoint]:
    qs = _batches_for(user).filter(
        dataset=dataset, status__in=[BatchStatus.PUBLISHED, BatchStatus.RETRACTED]
    )
    if department:
        qs = qs.filter(department_id=department)
    points = [
        QualityPoint(
            b.pk, b.received_at, b.rows, b.completeness, b.validity, b.accuracy, b.timeliness
        )
        for b in qs.order_by("-received_at")[:limit]
    ]
    return list(reversed(points))


@dataclass
class DatasetHealth:
    dataset: str
    title: str
    owner: str
    cycle: str
    batches: int
    rows: int
    last_received: object
    days_since: float | None
    overdue: bool
    completeness: float | None
    validity: float | None
    accuracy: float | None
    timeliness: float | None


def quality_overview(*, user: User, department: str | None = None) -> list[DatasetHealth]:
    """Latest quality per dataset (stewards: their department's datasets; supervisors: all)."""
    visible = _batches_for(user)
    now = timezone.now()
    out = []
    for c in all_contracts().values():
        if user.role == Role.DATA_STEWARD and c.owner != user.department_id:
            continue
        if department and c.owner != department:
            continue
        qs = visible.filter(dataset=c.dataset, status=BatchStatus.PUBLISHED)
        latest = qs.order_by("-received_at").first()
        days = (now - latest.received_at).total_seconds() / 86400 if latest else None
        cycle_days = c.cycle_days
        overdue = bool(cycle_days and (days is None or days > cycle_days + 1))
        out.append(
            DatasetHealth(
                dataset=c.dataset,
                title=c.title,
                owner=c.owner,
                cycle=CYCLE_LABELS[c.cycle],
                batches=qs.count(),
                rows=sum(qs.values_list("accepted", flat=True)),
                last_received=latest.received_at if latest else None,
                days_since=days,
                overdue=overdue,
                completeness=latest.completeness if latest else None,
                validity=latest.validity if latest else None,
                accuracy=latest.accuracy if latest else None,
                timeliness=latest.timeliness if latest else None,
            )
        )
    return out


def agreement_list(*, user: User) -> QuerySet[SharingAgreement]:
    if not user.is_authenticated or not user.is_platform_staff:
        raise AccessDenied
    qs = SharingAgreement.objects.select_related("consumer").order_by("dataset", "consumer_id")
    if user.role == Role.DATA_STEWARD:
        return qs.filter(consumer_id=user.department_id) | qs.filter(
            dataset__in=[
                c.dataset for c in all_contracts().values() if c.owner == user.department_id
            ]
        )
    return qs
