"""HTTP API of early warning: the queue, one warning with its evidence, assignment, the visit's
outcome, closing, statistics. Staff sessions only (with CSRF on writes)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Query, Router, Schema

from dajiuzhu.core.apiauth import session_auth
from dajiuzhu.core.schemas import ErrorOut
from dajiuzhu.warnings import selectors, services
from dajiuzhu.warnings.models import Outcome, Warning
from dajiuzhu.web.requests import ApiRequest
from dajiuzhu.web.requests import api_user as _user

router = Router(tags=["主动预警"], auth=session_auth)
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
LIST = {"x-personal-data": "warning_list"}
ONE = {"x-personal-data": "warning"}
NONE = {"x-personal-data": "none"}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


class WarningOut(Schema):
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
    amount: str | None = Field(None, description="the year's out-of-pocket (medical rules)")
    event_ref: str = Field(..., description="accident, incident or certificate number")
    event_date: date | None
    outcome: str
    basis_note: str


def _row_out(r: selectors.WarningRow) -> WarningOut:
    return WarningOut(
        id=r.id,
        rule=r.rule,
        rule_label=r.rule_label,
        year=r.year,
        status=r.status,
        status_label=r.status_label,
        pushed_at=r.pushed_at,
        due_date=r.due_date,
        overdue=r.overdue,
        escalated=r.escalated,
        town=r.town,
        community=r.community,
        household_no=r.household_no,
        person_name=r.person_name,
        assignee=r.assignee,
        amount=_plain(r.amount),
        event_ref=r.event_ref,
        event_date=r.event_date,
        outcome=r.outcome,
        basis_note=r.basis_note,
    )


class QueueQuery(Schema):
    rule: str = ""
    status: str = ""
    age: str = Field("", description="days since pushed: 0-3, 4-10, 11-30, 31+")
    community: str = Field("", max_length=15)
    year: str = ""
    escalated: bool = False
    mine: bool = False
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


@router.get("/warnings", response={200: list[WarningOut], **ERRORS}, openapi_extra=LIST)
def warning_list(request: ApiRequest, filters: Query[QueueQuery]):
    """The caller's queue (their jurisdiction, or warnings assigned to them)."""
    user = _user(request)
    parsed = selectors.QueueFilters.parse(
        {
            "rule": filters.rule,
            "status": filters.status,
            "age": filters.age,
            "community": filters.community,
            "year": filters.year,
            "escalated": "1" if filters.escalated else "",
            "mine": "1" if filters.mine else "",
        }
    )
    rows, _total = selectors.warning_list(
        user=user, filters=parsed, limit=filters.limit, offset=filters.offset
    )
    return [_row_out(r) for r in rows]


class StatRowOut(Schema):
    key: str
    label: str
    pushed: int
    assigned: int
    investigated: int
    helped_to_apply: int
    already_covered: int
    overdue: int
    withdrawn: int
    precision: float | None


class StatsOut(Schema):
    year: int | None
    total: StatRowOut
    by_rule: list[StatRowOut]
    by_town: list[StatRowOut]
    by_month: list[StatRowOut]


def _stat(r: selectors.StatRow) -> StatRowOut:
    return StatRowOut(
        key=r.key,
        label=r.label,
        pushed=r.pushed,
        assigned=r.assigned,
        investigated=r.investigated,
        helped_to_apply=r.helped,
        already_covered=r.covered,
        overdue=r.overdue,
        withdrawn=r.withdrawn,
        precision=r.precision,
    )


@router.get("/warnings/stats", response={200: StatsOut, **ERRORS}, openapi_extra=NONE)
def warning_stats(request: ApiRequest, year: int | None = None, rule: str = ""):
    """Counts per rule, town and month within the caller's jurisdiction (no personal data)."""
    stats = selectors.warning_stats(user=_user(request), year=year, rule=rule.upper())
    return StatsOut(
        year=stats.year,
        total=_stat(stats.total),
        by_rule=[_stat(r) for r in stats.by_rule],
        by_town=[_stat(r) for r in stats.by_town],
        by_month=[_stat(r) for r in stats.by_month],
    )


class MemberOut(Schema):
    name: str
    relation: str
    age: int | None
    id_number: str = Field(..., description="masked unless the caller's role needs it whole")
    status: str
    is_subject: bool


class AssistanceOut(Schema):
    programme: str
    member: str
    start_date: date
    end_date: date | None


class WarningDetailOut(WarningOut):
    person_known: bool
    person_id_number: str
    evidence: dict[str, Any]
    monthly: list[dict[str, Any]]
    events: list[dict[str, Any]]
    members: list[MemberOut]
    assistance: list[AssistanceOut]
    programme_code: str
    notes: str
    withdrawn_reason: str


def _detail_out(d: selectors.WarningDetail) -> WarningDetailOut:
    w: Warning = d.warning
    return WarningDetailOut(
        id=w.pk,
        rule=w.rule,
        rule_label=w.get_rule_display(),
        year=w.year,
        status=w.status,
        status_label=w.get_status_display(),
        pushed_at=w.pushed_at,
        due_date=w.due_date,
        overdue=d.overdue,
        escalated=w.escalated,
        town=w.town.name if w.town is not None else "",
        community=w.division_code if len(w.division_code) > 9 else "",
        household_no=w.household_no,
        person_name=d.person_name,
        assignee=str(w.assignee) if w.assignee_id else "",
        amount=_plain(w.amount),
        event_ref=w.event_ref,
        event_date=w.event_date,
        outcome=w.outcome,
        basis_note=w.basis_note,
        person_known=d.person_known,
        person_id_number=d.person_id_number,
        evidence=w.evidence,
        monthly=[{k: _plain(v) for k, v in r.items()} for r in d.monthly],
        events=[{k: _plain(v) for k, v in r.items()} for r in d.event_rows],
        members=[
            MemberOut(
                name=m.name,
                relation=m.relation,
                age=m.age,
                id_number=m.id_number,
                status=m.status,
                is_subject=m.is_subject,
            )
            for m in d.members
        ],
        assistance=[
            AssistanceOut(
                programme=a.programme, member=a.member, start_date=a.start_date, end_date=a.end_date
            )
            for a in d.assistance
        ],
        programme_code=w.programme_code,
        notes=w.notes,
        withdrawn_reason=w.withdrawn_reason,
    )


@router.get("/warnings/{warning_id}", response={200: WarningDetailOut, **ERRORS}, openapi_extra=ONE)
def warning_detail(request: ApiRequest, warning_id: int):
    """One warning with its evidence, the household's members and current assistance."""
    return _detail_out(selectors.warning_detail(user=_user(request), warning_id=warning_id))


class AssignIn(Schema):
    assignee: int = Field(..., description="user id of a grid or community worker of the town")


class OutcomeIn(Schema):
    outcome: Outcome
    programme_code: str = Field("", max_length=30)
    notes: str = Field(..., min_length=1, max_length=services.MAX_NOTES)


class ChangedOut(Schema):
    id: int
    status: str
    assignee: int | None
    outcome: str


def _changed(w: Warning) -> ChangedOut:
    return ChangedOut(id=w.pk, status=w.status, assignee=w.assignee_id, outcome=w.outcome)


@router.post(
    "/warnings/{warning_id}/assign", response={200: ChangedOut, **ERRORS}, openapi_extra=ONE
)
def warning_assign(request: ApiRequest, warning_id: int, body: AssignIn):
    """Send the warning to a grid or community worker of its town."""
    w = services.warning_assign(
        actor=_user(request), warning_id=warning_id, assignee_id=body.assignee
    )
    return _changed(w)


@router.post(
    "/warnings/{warning_id}/outcome", response={200: ChangedOut, **ERRORS}, openapi_extra=ONE
)
def warning_outcome(request: ApiRequest, warning_id: int, body: OutcomeIn):
    """The visit's outcome, with notes (and the programme when helped to apply)."""
    w = services.warning_record_outcome(
        actor=_user(request),
        warning_id=warning_id,
        outcome=body.outcome.value,
        programme_code=body.programme_code,
        notes=body.notes,
    )
    return _changed(w)


@router.post(
    "/warnings/{warning_id}/close", response={200: ChangedOut, **ERRORS}, openapi_extra=ONE
)
def warning_close(request: ApiRequest, warning_id: int):
    """Close an investigated warning (town staff)."""
    return _changed(services.warning_close(actor=_user(request), warning_id=warning_id))
