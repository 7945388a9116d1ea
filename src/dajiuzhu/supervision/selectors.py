"""Reads of fund supervision, always scoped to the acting user (``supervision.access``) and
audited with purpose 监督检查: the district's queue and a finding's page.

The page shows the finding's evidence summary to everyone who may see the finding; the lake
rows behind it (the payee's payments of the month, the death record, the household's vehicles,
homes or businesses) only to roles that read departments' data for the 监督 purpose, and only
the fields each dataset's contract opens for that purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone

from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.models import AuditEvent, Department, User
from dajiuzhu.core.roles import Purpose
from dajiuzhu.exchange.contracts import get_contract
from dajiuzhu.policy.catalogue import names as programme_names
from dajiuzhu.registry.models import Person
from dajiuzhu.registry.selectors import display_id_number
from dajiuzhu.supervision.access import (
    RECTIFY_ROLES,
    access_finding_by_id,
    readable,
    reads_lake_evidence,
)
from dajiuzhu.supervision.checks import CHECKS
from dajiuzhu.supervision.checkspec import EvidenceSource
from dajiuzhu.supervision.models import Check, Finding, Status

UNKNOWN_PERSON = "(人员库中暂无此人)"
MAX_LIST = 500


def programme_label(code: str) -> str:
    if not code:
        return "—"
    return programme_names().get(code, code)


@dataclass
class Filters:
    month: str = ""
    check: str = ""
    status: str = ""
    escalated: bool = False

    @classmethod
    def parse(cls, params: Any) -> Filters:
        month = (params.get("month") or "").strip()
        check = (params.get("check") or "").strip().upper()
        status = (params.get("status") or "").strip()
        return cls(
            month=month
            if len(month) == 7 and month[4] == "-" and month.replace("-", "").isdigit()
            else "",
            check=check if check in Check.values else "",
            status=status if status in [*Status.values, "overdue"] else "",
            escalated=(params.get("escalated") or "") in ("1", "true", "on"),
        )


@dataclass
class FindingRow:
    id: int
    check: str
    check_label: str
    month: str
    person_name: str
    household_no: str
    district_code: str
    program: str
    payment_id: str
    amount: str
    status: str
    status_label: str
    due_date: date
    overdue: bool
    escalated: bool
    basis_note: str


def is_overdue(f: Finding, today: date | None = None) -> bool:
    return f.status == Status.OPEN and f.due_date < (today or timezone.localdate())


def _filtered(user: User, f: Filters) -> QuerySet[Finding]:
    qs = readable(user)
    if f.month:
        qs = qs.filter(month=f.month)
    if f.check:
        qs = qs.filter(check_code=f.check)
    if f.status == "overdue":
        qs = qs.filter(status=Status.OPEN, due_date__lt=timezone.localdate())
    elif f.status:
        qs = qs.filter(status=f.status)
    else:
        qs = qs.exclude(status=Status.WITHDRAWN)
    if f.escalated:
        qs = qs.filter(escalated=True)
    return qs


def _names(keys: set[int]) -> dict[int, Person]:
    people: dict[int, Person] = {}
    key_list = list(keys)
    for start in range(0, len(key_list), 500):
        for p in Person.objects.filter(person_key__in=key_list[start : start + 500]):
            people[p.person_key] = p
    return people


def finding_list(
    *, user: User, filters: Filters, limit: int = 50, offset: int = 0
) -> tuple[list[FindingRow], int]:
    """The user's findings (escalated and overdue first), one page; audited (names shown)."""
    qs = _filtered(user, filters)
    total = qs.count()
    limit = max(1, min(limit, MAX_LIST))
    ordered = qs.annotate(
        open_first=Case(
            When(status=Status.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
    ).order_by("-escalated", "open_first", "due_date", "-month", "id")
    page = list(ordered[offset : offset + limit])
    people = _names({f.person_key for f in page})
    today = timezone.localdate()
    rows = [
        FindingRow(
            id=f.pk,
            check=f.check_code,
            check_label=CHECKS[f.check_code].label,
            month=f.month,
            person_name=people[f.person_key].name if f.person_key in people else UNKNOWN_PERSON,
            household_no=f.household_no,
            district_code=f.district_code,
            program=programme_label(f.program_code),
            payment_id=f.payment_id,
            amount=f"{f.amount:.2f}",
            status=f.status,
            status_label=f.get_status_display(),
            due_date=f.due_date,
            overdue=is_overdue(f, today),
            escalated=f.escalated,
            basis_note=f.basis_note,
        )
        for f in page
    ]
    if rows:
        audit_record(
            actor=user,
            action="supervision.finding.list",
            object_type="finding",
            object_id="list",
            purpose=Purpose.SUPERVISION,
            detail={"findings": [r.id for r in rows]},
        )
    return rows, total


@dataclass
class LakeTable:
    title: str
    columns: list[str]
    rows: list[list[str]]


@dataclass
class FindingDetail:
    finding: Finding
    check_label: str
    check_description: str
    program: str
    person_name: str
    person_id_number: str
    person_known: bool
    overdue: bool
    evidence_lines: list[tuple[str, str]]
    lake_evidence: bool  # whether the viewer reads the lake rows (监督 purpose)
    lake_tables: list[LakeTable] = field(default_factory=list)
    can_rectify: bool = False
    datasets: list[tuple[str, str]] = field(default_factory=list)  # (dataset, "title(owner)")
    history: list[tuple[Any, str, str]] = field(default_factory=list)
    returned_to_name: str = ""


def _fmt(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _lake_tables(
    f: Finding, sources: tuple[EvidenceSource, ...], *, payments: bool = True
) -> list[LakeTable]:
    """What the lake says now (DuckDB; a page never waits for Spark), 监督 fields only."""
    from dajiuzhu.analytics.engine import open_lake

    tables = []
    with open_lake("duckdb", threads=1, memory_limit="256MB") as lake:
        members = {f.person_key}
        if f.household_no:
            hukou = lake.table("hukou")
            listed = hukou.filter(hukou.household_no == f.household_no).select("person_key")
            members |= {r["person_key"] for r in lake.to_rows(listed)}
        people = _names(members)
        month = EvidenceSource("assistance_payments", where={"month": (f.month,)})
        wanted = (month, *sources) if payments else sources
        for source in wanted:
            contract = get_contract(source.dataset)
            open_fields = [c for c in contract.purpose_fields(Purpose.SUPERVISION)]
            shown = [c for c in open_fields if c != "person_key"]
            table = lake.table(source.dataset)
            keys = [f.person_key] if source.who == "payee" else sorted(members)
            rows = table.filter(table.person_key.isin(keys))
            for column, values in source.where.items():
                rows = rows.filter(rows[column].isin(list(values)))
            rows = rows.select(*open_fields)
            titles = {fl.lake_name: fl.title for fl in contract.lake_fields}
            lines = []
            for r in sorted(lake.to_rows(rows), key=lambda r: [_fmt(r[c]) for c in shown]):
                who = people.get(r["person_key"])
                lines.append([who.name if who else UNKNOWN_PERSON, *[_fmt(r[c]) for c in shown]])
            tables.append(
                LakeTable(
                    title=contract.title,
                    columns=["人员", *[titles.get(c, c) for c in shown]],
                    rows=lines,
                )
            )
    return tables


HISTORY = {
    "supervision.finding.rectify": "登记整改",
    "supervision.finding.escalate": "逾期上报市级",
}


def finding_detail(*, user: User, finding_id: int) -> FindingDetail:
    f = access_finding_by_id(user, finding_id)
    spec = CHECKS[f.check_code]
    person = Person.objects.filter(person_key=f.person_key).first()
    lake_evidence = reads_lake_evidence(user)
    datasets = []
    for name in spec.datasets:
        contract = get_contract(name)
        owner = (
            Department.objects.filter(code=contract.owner).values_list("name", flat=True).first()
        )
        datasets.append((name, f"{contract.title}({owner or contract.owner})"))
    history = [
        (e.at, HISTORY.get(e.action, e.action), e.actor_label)
        for e in AuditEvent.objects.filter(
            object_type="finding", object_id=str(f.pk), action__in=list(HISTORY)
        ).order_by("at")
    ]
    returned = ""
    if f.returned_to:
        returned = (
            Department.objects.filter(code=f.returned_to).values_list("name", flat=True).first()
            or f.returned_to
        )
    detail = FindingDetail(
        finding=f,
        check_label=spec.label,
        check_description=spec.description,
        program=programme_label(f.program_code),
        person_name=person.name if person else UNKNOWN_PERSON,
        person_id_number=display_id_number(user, person) if person else "",
        person_known=person is not None,
        overdue=is_overdue(f),
        evidence_lines=spec.fact_lines(f.evidence or {}),
        lake_evidence=lake_evidence,
        lake_tables=_lake_tables(f, spec.sources) if lake_evidence else [],
        can_rectify=f.status == Status.OPEN and user.role in RECTIFY_ROLES,
        datasets=datasets,
        history=history,
        returned_to_name=returned,
    )
    audit_record(
        actor=user,
        action="supervision.finding.view",
        object_type="finding",
        object_id=f.pk,
        purpose=Purpose.SUPERVISION,
        detail={
            "check": f.check_code,
            "lake_evidence": lake_evidence,
            "person_known": person is not None,
        },
    )
    return detail


__all__ = [
    "Filters",
    "FindingDetail",
    "FindingRow",
    "finding_detail",
    "finding_list",
]


# --------------------------------------------------------------------------- spot checks


@dataclass
class SampleRow:
    id: int
    quarter: str
    seed: int
    town_code: str
    person_name: str
    program: str
    start_date: date
    status: str
    status_label: str
    findings: list[str]
    due_date: date | None
    town_name: str = ""
    relative: bool = False


def sample_list(*, user: User, quarter: str = "") -> list[SampleRow]:
    from dajiuzhu.core.access import require_role
    from dajiuzhu.core.roles import Role
    from dajiuzhu.supervision.access import SAMPLE_STAFF_ROLES, samples_visible

    require_role(user, {*SAMPLE_STAFF_ROLES, Role.AUDITOR})
    qs = samples_visible(user).select_related("spot_check")
    if quarter:
        qs = qs.filter(spot_check__quarter=quarter.strip().upper())
    cases = list(qs.order_by("-spot_check__quarter", "town_code", "id")[:MAX_LIST])
    people = _names({c.person_key for c in cases})
    towns = _division_names({c.town_code for c in cases})
    rows = [
        SampleRow(
            id=c.pk,
            quarter=c.spot_check.quarter,
            seed=c.spot_check.seed,
            town_code=c.town_code,
            person_name=people[c.person_key].name if c.person_key in people else UNKNOWN_PERSON,
            program=programme_label(c.program_code),
            start_date=c.start_date,
            status=c.status,
            status_label=c.get_status_display(),
            findings=list(c.findings),
            due_date=c.due_date,
            town_name=towns.get(c.town_code, c.town_code),
            relative=c.relative,
        )
        for c in cases
    ]
    if rows:
        audit_record(
            actor=user,
            action="supervision.sample.list",
            object_type="sampled_case",
            object_id="list",
            purpose=Purpose.SUPERVISION,
            detail={"cases": [r.id for r in rows]},
        )
    return rows


@dataclass
class SampleDetail:
    case: Any
    person_name: str
    program: str
    members: list[dict[str, str]]
    assistance: LakeTable | None
    reports: list[dict[str, str]]
    # the decided case: its application, the steps (investigation …) and the decision
    decision: dict[str, str] = field(default_factory=dict)
    steps: list[dict[str, str]] = field(default_factory=list)


def _decided_case(case_id: int | None) -> tuple[dict[str, str], list[dict[str, str]], int | None]:
    """The sampled case's application and decision, its steps, and the check report attached
    to the application at submission (前置核对)."""
    from dajiuzhu.cases.models import Case as DecidedCase
    from dajiuzhu.cases.workflow import STEP_LABELS

    if case_id is None:
        return {}, [], None
    c = (
        DecidedCase.objects.select_related("application", "department", "decided_by")
        .filter(pk=case_id)
        .first()
    )
    if c is None:
        return {}, [], None
    app = c.application
    decision = {
        "application_no": app.application_no,
        "channel": app.get_channel_display(),
        "accepted_on": c.accepted_on.isoformat(),
        "due_on": c.due_on.isoformat(),
        "status": c.get_status_display(),
        "department": c.department.name,
        "decided_on": c.decided_on.isoformat() if c.decided_on else "",
        "amount": "" if c.amount is None else f"{c.amount:.2f}",
        "reasons": c.decision_reasons,
        "end_month": c.end_month,
        "stop_reasons": c.stop_reasons,
    }
    steps = [
        {
            "step": STEP_LABELS.get(s.step, s.step),
            "round": str(s.round),
            "due_on": s.due_on.isoformat() if s.due_on else "",
            "done_at": timezone.localtime(s.done_at).strftime("%Y-%m-%d %H:%M")
            if s.done_at
            else "",
            "outcome": s.outcome,
        }
        for s in c.steps.all()
    ]
    return decision, steps, app.verification_report_id


def sample_detail(*, user: User, case_id: int) -> SampleDetail:
    """The sampled case for its auditor (or the town): the household file (members), the
    household's assistance records (监督 fields), its economic-status check reports."""
    from dajiuzhu.registry.models import Household, Membership
    from dajiuzhu.supervision.access import access_sample_by_id
    from dajiuzhu.verification.models import VerificationReport

    case = access_sample_by_id(user, case_id)
    decision, steps, attached = _decided_case(case.case_id)
    person = Person.objects.filter(person_key=case.person_key).first()
    household = Household.objects.filter(household_no=case.household_no).first()
    members: list[dict[str, str]] = []
    reports: list[dict[str, str]] = []
    if household is not None:
        for m in Membership.objects.filter(
            household=household, end_date__isnull=True
        ).select_related("person"):
            members.append(
                {
                    "name": m.person.name,
                    "relation": m.get_relation_display(),
                    "id_number": display_id_number(user, m.person),
                    "status": m.person.get_status_display(),
                }
            )
        reports = [
            {
                "month": r.month,
                "created_at": r.created_at.isoformat(),
                "complete": str(r.complete),
                "attached": str(r.pk == attached),
            }
            for r in VerificationReport.objects.filter(household=household)
        ]
    assistance = None
    if case.household_no:
        home = Finding(person_key=case.person_key, household_no=case.household_no)
        (assistance,) = _lake_tables(
            home, (EvidenceSource("assistance_recipients", who="household"),), payments=False
        )
    audit_record(
        actor=user,
        action="supervision.sample.view",
        object_type="sampled_case",
        object_id=case.pk,
        purpose=Purpose.SUPERVISION,
        detail={"household_known": household is not None},
    )
    return SampleDetail(
        case=case,
        person_name=person.name if person else UNKNOWN_PERSON,
        program=programme_label(case.program_code),
        members=members,
        assistance=assistance,
        reports=reports,
        decision=decision,
        steps=steps,
    )


# --------------------------------------------------------------------------- complaints


@dataclass
class ComplaintRow:
    id: int
    category: str
    category_label: str
    subject: str
    division_code: str
    division_name: str
    channel_label: str
    received_on: date
    due_date: date
    status: str
    status_label: str
    overdue: bool
    escalated: bool
    handler: str
    anonymous: bool


def _division_names(codes: set[str]) -> dict[str, str]:
    from dajiuzhu.core.models import Division

    return dict(Division.objects.filter(code__in=list(codes)).values_list("code", "name"))


def complaint_is_overdue(c: Any, today: date | None = None) -> bool:
    from dajiuzhu.supervision.models import ComplaintStatus

    return c.status != ComplaintStatus.CLOSED and c.due_date < (today or timezone.localdate())


def _complaint_row(c: Any, names: dict[str, str], today: date) -> ComplaintRow:
    return ComplaintRow(
        id=c.pk,
        category=c.category,
        category_label=c.get_category_display(),
        subject=c.subject,
        division_code=c.division_code,
        division_name=names.get(c.division_code, c.division_code),
        channel_label=c.get_channel_display(),
        received_on=timezone.localdate(c.received_at),
        due_date=c.due_date,
        status=c.status,
        status_label=c.get_status_display(),
        overdue=complaint_is_overdue(c, today),
        escalated=c.escalated,
        handler=c.handler.get_full_name() or c.handler.username if c.handler else "",
        anonymous=c.anonymous,
    )


def complaint_list(*, user: User, status: str = "", limit: int = 100) -> list[ComplaintRow]:
    """The user's supervision queue of complaints: escalated and overdue first; audited (the
    content may name people)."""
    from dajiuzhu.core.access import require_role
    from dajiuzhu.supervision.access import COMPLAINT_ROLES, complaints_visible
    from dajiuzhu.supervision.models import ComplaintStatus

    require_role(user, COMPLAINT_ROLES)
    qs = complaints_visible(user).select_related("handler")
    today = timezone.localdate()
    if status == "overdue":
        qs = qs.exclude(status=ComplaintStatus.CLOSED).filter(due_date__lt=today)
    elif status in ComplaintStatus.values:
        qs = qs.filter(status=status)
    ordered = qs.annotate(
        open_first=Case(
            When(status=ComplaintStatus.CLOSED, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    ).order_by("-escalated", "open_first", "due_date", "-received_at", "id")
    page = list(ordered[: max(1, min(limit, MAX_LIST))])
    names = _division_names({c.division_code for c in page})
    rows = [_complaint_row(c, names, today) for c in page]
    if rows:
        audit_record(
            actor=user,
            action="supervision.complaint.list",
            object_type="complaint",
            object_id="list",
            purpose=Purpose.SUPERVISION,
            detail={"complaints": [r.id for r in rows]},
        )
    return rows


@dataclass
class ComplaintDetail:
    complaint: Any
    row: ComplaintRow
    district_name: str
    has_identity: bool  # a name, a phone or a resident account was given
    is_handler: bool
    can_take: bool
    case_label: str = ""
    household_no: str = ""
    finding_label: str = ""
    history: list[tuple[Any, str, str]] = field(default_factory=list)


COMPLAINT_HISTORY = {
    "supervision.complaint.submit": "收到举报",
    "supervision.complaint.take": "承办",
    "supervision.complaint.link": "关联案件/家庭/问题",
    "supervision.complaint.reporter": "查看举报人信息",
    "supervision.complaint.escalate": "逾期上报市级",
    "supervision.complaint.close": "办结",
}


def complaint_detail(*, user: User, complaint_id: int) -> ComplaintDetail:
    from dajiuzhu.core.models import DivisionLevel
    from dajiuzhu.core.roles import Role
    from dajiuzhu.supervision.access import access_complaint_by_id
    from dajiuzhu.supervision.models import ComplaintStatus

    c = access_complaint_by_id(user, complaint_id)
    names = _division_names({c.division_code, c.district_code})
    row = _complaint_row(c, names, timezone.localdate())
    city = user.scope is not None and user.scope.level == DivisionLevel.CITY
    can_take = user.role == Role.SUPERVISOR and (
        c.status == ComplaintStatus.RECEIVED
        or (
            c.status == ComplaintStatus.HANDLING
            and c.escalated
            and city
            and c.handler_id != user.pk
        )
    )
    history = [
        (e.at, COMPLAINT_HISTORY.get(e.action, e.action), e.actor_label)
        for e in AuditEvent.objects.filter(
            object_type="complaint", object_id=str(c.pk), action__in=list(COMPLAINT_HISTORY)
        ).order_by("at")
    ]
    finding_label = ""
    if c.finding is not None:
        finding_label = f"{CHECKS[c.finding.check_code].label}({c.finding.month})#{c.finding_id}"
    detail = ComplaintDetail(
        complaint=c,
        row=row,
        district_name=names.get(c.district_code, c.district_code),
        has_identity=not c.anonymous,
        is_handler=c.handler_id == user.pk,
        can_take=can_take,
        case_label=f"案件#{c.case_id}" if c.case_id else "",
        household_no=c.household.household_no if c.household is not None else "",
        finding_label=finding_label,
        history=history,
    )
    audit_record(
        actor=user,
        action="supervision.complaint.view",
        object_type="complaint",
        object_id=c.pk,
        purpose=Purpose.SUPERVISION,
        detail={"status": c.status},
    )
    return detail


@dataclass
class ReporterIdentity:
    name: str
    phone: str
    account_phone: str
    channel_label: str


def complaint_reporter(*, user: User, complaint_id: int) -> ReporterIdentity:
    """Who reported: only for the supervisor handling the report, every read audited."""
    from dajiuzhu.core import crypto
    from dajiuzhu.supervision.access import access_complaint_by_id, require_complaint_handler

    c = access_complaint_by_id(user, complaint_id)
    require_complaint_handler(user, c)
    name = ""
    if c.reporter_name_enc:
        name = crypto.decrypt(c.reporter_name_enc, field="complaint.name")
    phone = (
        crypto.decrypt(c.reporter_phone_enc, field="complaint.phone")
        if c.reporter_phone_enc
        else ""
    )
    account = ""
    if c.reporter is not None and c.reporter.phone_enc:
        account = crypto.decrypt(c.reporter.phone_enc, field="user.phone")
    audit_record(
        actor=user,
        action="supervision.complaint.reporter",
        object_type="complaint",
        object_id=c.pk,
        purpose=Purpose.SUPERVISION,
        detail={"named": bool(name), "phone": bool(phone), "account": bool(account)},
    )
    return ReporterIdentity(
        name=name, phone=phone, account_phone=account, channel_label=c.get_channel_display()
    )


@dataclass
class ComplaintTrack:
    """What the tracking code alone shows: the status and the written outcome, nothing else."""

    tracking_code: str
    received_on: date
    due_date: date
    status: str
    status_label: str
    outcome: str
    closed_on: date | None


def complaint_track(*, code: str) -> ComplaintTrack | None:
    from dajiuzhu.supervision.complaints import normalise_tracking_code
    from dajiuzhu.supervision.models import Complaint

    code = normalise_tracking_code(code)
    if not code:
        return None
    c = Complaint.objects.filter(tracking_code=code).first()
    if c is None:
        return None
    return ComplaintTrack(
        tracking_code=c.tracking_code,
        received_on=timezone.localdate(c.received_at),
        due_date=c.due_date,
        status=c.status,
        status_label=c.get_status_display(),
        outcome=c.outcome,
        closed_on=timezone.localdate(c.closed_at) if c.closed_at else None,
    )


def my_complaints(*, user: User) -> list[Any]:
    """A logged-in resident's own reports (their codes, statuses and outcomes)."""
    from dajiuzhu.core.roles import Role
    from dajiuzhu.supervision.models import Complaint

    if not user.is_authenticated or user.role != Role.RESIDENT:
        return []
    return list(Complaint.objects.filter(reporter=user).order_by("-received_at")[:100])


def complaint_divisions() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """The districts of the city with their towns, for the report form's place select."""
    from dajiuzhu.core.models import Division, DivisionLevel

    towns: dict[str, list[tuple[str, str]]] = {}
    for code, name in Division.objects.filter(
        level=DivisionLevel.TOWN, code__startswith="3204"
    ).values_list("code", "name"):
        towns.setdefault(code[:6], []).append((code, name))
    return [
        (code, name, towns.get(code, []))
        for code, name in Division.objects.filter(
            level=DivisionLevel.DISTRICT, code__startswith="3204"
        ).values_list("code", "name")
    ]
