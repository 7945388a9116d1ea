"""HTTP API of fund supervision: the caller's findings, one finding with its evidence, and the
district's rectification. Staff sessions only (with CSRF on writes)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from ninja import Field, Query, Router, Schema

from dajiuzhu.core.apiauth import session_auth
from dajiuzhu.core.models import User
from dajiuzhu.core.schemas import ErrorOut
from dajiuzhu.supervision import rectification, selectors
from dajiuzhu.supervision.models import Finding, Status
from dajiuzhu.web.requests import ApiRequest
from dajiuzhu.web.requests import api_user as _user

router = Router(tags=["监督检查"], auth=session_auth)
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
LIST = {"x-personal-data": "finding_list"}
ONE = {"x-personal-data": "finding"}


class FindingOut(Schema):
    id: int
    check: str
    check_label: str
    month: str
    person_name: str
    household_no: str
    district_code: str
    program: str
    payment_id: str
    amount: str = Field(..., description="yuan, two decimals")
    status: str
    status_label: str
    due_date: date
    overdue: bool
    escalated: bool
    basis_note: str


class FindingsQuery(Schema):
    month: str = Field("", description="YYYY-MM")
    check: str = ""
    status: str = ""
    escalated: bool = False
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


@router.get("/supervision/findings", response={200: list[FindingOut], **ERRORS}, openapi_extra=LIST)
def finding_list(request: ApiRequest, filters: Query[FindingsQuery]):
    """The caller's findings (the paying district's queue; city level sees all)."""
    parsed = selectors.Filters.parse(
        {
            "month": filters.month,
            "check": filters.check,
            "status": filters.status,
            "escalated": "1" if filters.escalated else "",
        }
    )
    rows, _total = selectors.finding_list(
        user=_user(request), filters=parsed, limit=filters.limit, offset=filters.offset
    )
    return [FindingOut(**r.__dict__) for r in rows]


class FactOut(Schema):
    label: str
    value: str


class LakeTableOut(Schema):
    title: str
    columns: list[str]
    rows: list[list[str]]


class FindingDetailOut(Schema):
    id: int
    check: str
    check_label: str
    month: str
    person_name: str
    person_id_number: str = Field(..., description="masked unless the role needs it whole")
    program_code: str
    payment_id: str
    amount: str
    status: str
    due_date: date
    escalated: bool
    evidence: list[FactOut]
    lake_evidence: bool = Field(..., description="whether the 监督 purpose rows are shown")
    lake_tables: list[LakeTableOut]
    withdrawn_reason: str
    basis_note: str
    returned_to: str
    recovered_amount: str | None
    payment_stopped: bool
    notes: str


@router.get(
    "/supervision/findings/{finding_id}",
    response={200: FindingDetailOut, **ERRORS},
    openapi_extra=ONE,
)
def finding_detail(request: ApiRequest, finding_id: int):
    d = selectors.finding_detail(user=_user(request), finding_id=finding_id)
    return _detail_out(d)


def _detail_out(d: selectors.FindingDetail) -> FindingDetailOut:
    f: Finding = d.finding
    return FindingDetailOut(
        id=f.pk,
        check=f.check_code,
        check_label=d.check_label,
        month=f.month,
        person_name=d.person_name,
        person_id_number=d.person_id_number,
        program_code=f.program_code,
        payment_id=f.payment_id,
        amount=f"{f.amount:.2f}",
        status=f.status,
        due_date=f.due_date,
        escalated=f.escalated,
        evidence=[FactOut(label=k, value=v) for k, v in d.evidence_lines],
        lake_evidence=d.lake_evidence,
        lake_tables=[LakeTableOut(**t.__dict__) for t in d.lake_tables],
        withdrawn_reason=f.withdrawn_reason,
        basis_note=f.basis_note,
        returned_to=f.returned_to,
        recovered_amount=None if f.recovered_amount is None else f"{f.recovered_amount:.2f}",
        payment_stopped=f.payment_stopped,
        notes=f.notes,
    )


class Resolution(StrEnum):
    confirmed = Status.CONFIRMED.value
    explained = Status.EXPLAINED.value
    wrong_data = Status.WRONG_DATA.value


class RectifyIn(Schema):
    resolution: Resolution
    notes: str = Field("", max_length=2000)
    recovered_amount: str = Field("", max_length=16, description="yuan (confirmed)")
    payment_stopped: bool = False
    dataset: str = Field("", max_length=40, description="the wrong dataset (wrong_data)")


class RectifiedOut(Schema):
    id: int
    status: str
    returned_to: str
    recovered_amount: str | None


@router.post(
    "/supervision/findings/{finding_id}/rectify",
    response={200: RectifiedOut, **ERRORS},
    openapi_extra=ONE,
)
def finding_rectify(request: ApiRequest, finding_id: int, body: RectifyIn):
    """The paying district's rectification: confirmed (recovered and stopped), explained (with
    the evidence) or wrong data (sent back to the department owning the dataset)."""
    f = rectification.finding_rectify(
        actor=_user(request),
        finding_id=finding_id,
        resolution=body.resolution.value,
        notes=body.notes,
        recovered_amount=body.recovered_amount,
        payment_stopped=body.payment_stopped,
        dataset=body.dataset,
    )
    return RectifiedOut(
        id=f.pk,
        status=f.status,
        returned_to=f.returned_to,
        recovered_amount=None if f.recovered_amount is None else f"{f.recovered_amount:.2f}",
    )


# --------------------------------------------------------------------------- spot checks

SAMPLES = {"x-personal-data": "sample_list"}
SAMPLE = {"x-personal-data": "sample"}


class SampleOut(Schema):
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
    town_name: str
    relative: bool = Field(description="近亲属备案必抽(申请家庭有工作人员备案的近亲属)")


@router.get(
    "/supervision/samples", response={200: list[SampleOut], **ERRORS}, openapi_extra=SAMPLES
)
def sample_list(request: ApiRequest, quarter: str = Query("", max_length=6)):
    """The sampled cases the caller may see: an auditor those of its contracts only."""
    return [
        SampleOut(**r.__dict__) for r in selectors.sample_list(user=_user(request), quarter=quarter)
    ]


class SampleMemberOut(Schema):
    name: str
    relation: str
    id_number: str
    status: str


class SampleDetailOut(Schema):
    id: int
    quarter: str
    person_name: str
    program: str
    start_date: date
    status: str
    findings: list[str]
    notes: str
    due_date: date | None
    rectification: str
    members: list[SampleMemberOut]
    assistance: LakeTableOut | None
    reports: list[dict[str, str]]
    relative: bool
    decision: dict[str, str] = Field(
        description="申请与决定(申请编号、渠道、受理日期、决定、金额、理由)"
    )
    steps: list[dict[str, str]] = Field(description="办理步骤(入户调查、初审、公示、审批)及其结果")


@router.get(
    "/supervision/samples/{case_id}",
    response={200: SampleDetailOut, **ERRORS},
    openapi_extra=SAMPLE,
)
def sample_detail(request: ApiRequest, case_id: int):
    d = selectors.sample_detail(user=_user(request), case_id=case_id)
    c = d.case
    return SampleDetailOut(
        id=c.pk,
        quarter=c.spot_check.quarter,
        person_name=d.person_name,
        program=d.program,
        start_date=c.start_date,
        status=c.status,
        findings=list(c.findings),
        notes=c.notes,
        due_date=c.due_date,
        rectification=c.rectification,
        members=[SampleMemberOut(**m) for m in d.members],
        assistance=None if d.assistance is None else LakeTableOut(**d.assistance.__dict__),
        reports=d.reports,
        relative=c.relative,
        decision=d.decision,
        steps=d.steps,
    )


class AssessIn(Schema):
    codes: list[str] = Field(
        default_factory=list,
        description="wrong_amount, missing_investigation, ineligible, documents, timeliness, other",
    )
    notes: str = Field("", max_length=2000)


class SampleChangedOut(Schema):
    id: int
    status: str
    findings: list[str]
    due_date: date | None


def _sample_changed(c) -> SampleChangedOut:
    return SampleChangedOut(
        id=c.pk, status=c.status, findings=list(c.findings), due_date=c.due_date
    )


@router.post(
    "/supervision/samples/{case_id}/assess",
    response={200: SampleChangedOut, **ERRORS},
    openapi_extra=SAMPLE,
)
def sample_assess(request: ApiRequest, case_id: int, body: AssessIn):
    """The auditor's findings by code (none: the case passed)."""
    from dajiuzhu.supervision.sampling import sample_assess as assess

    return _sample_changed(
        assess(actor=_user(request), case_id=case_id, codes=body.codes, notes=body.notes)
    )


class SampleRectifyIn(Schema):
    notes: str = Field(..., max_length=2000)


@router.post(
    "/supervision/samples/{case_id}/rectify",
    response={200: SampleChangedOut, **ERRORS},
    openapi_extra=SAMPLE,
)
def sample_rectify(request: ApiRequest, case_id: int, body: SampleRectifyIn):
    """The town's rectification of the auditor's findings."""
    from dajiuzhu.supervision.sampling import sample_rectify as rectify

    return _sample_changed(rectify(actor=_user(request), case_id=case_id, notes=body.notes))


# --------------------------------------------------------------------------- scorecard


class ScoreOut(Schema):
    code: str
    name: str
    level: str = Field(..., description="district or town")
    payments: int
    confirmed: int
    findings_per_1000: str | None = Field(..., description="confirmed findings per 1,000 payments")
    warnings: int
    closed_in_time: int
    warning_closure: str | None
    warnings_judged: int
    warnings_precise: int
    warning_precision: str | None
    sampled: int
    sampled_with_findings: int
    spot_check_error_rate: str | None
    decided: int
    decided_in_time: int
    timeliness: str | None = Field(..., description="decided within 30 working days / decided")
    alarms: int
    answered_60: int
    answered_180: int
    alarm_60: str | None
    alarm_180: str | None


class ScorecardQuery(Schema):
    month: str = Field(..., max_length=7, description="YYYY-MM")
    level: str = Field("district", pattern="^(district|town)$")
    parent: str = Field("", max_length=6, description="the district whose towns (level=town)")


@router.get(
    "/supervision/scorecard",
    response={200: list[ScoreOut], **ERRORS},
    openapi_extra={"x-personal-data": "none"},
)
def scorecard(request: ApiRequest, q: Query[ScorecardQuery]):
    """The month's indicators per district (or per town of one district) of the caller's
    jurisdiction (aggregates only)."""
    from dajiuzhu.supervision.scorecard import scorecard as compute

    card = compute(user=_user(request), month=q.month, level=q.level, parent=q.parent)
    return [ScoreOut(**r.__dict__) for r in card.rows]


# --------------------------------------------------------------------------- complaints

COMPLAINT = {"x-personal-data": "complaint"}


class ComplaintOut(Schema):
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


class ComplaintsQuery(Schema):
    status: str = Field("", description="received, handling, closed or overdue")
    limit: int = Field(100, ge=1, le=500)


@router.get(
    "/supervision/complaints",
    response={200: list[ComplaintOut], **ERRORS},
    openapi_extra={"x-personal-data": "complaint_list"},
)
def complaint_list(request: ApiRequest, filters: Query[ComplaintsQuery]):
    """The caller's complaints queue (the competent district's; escalated and overdue first)."""
    rows = selectors.complaint_list(user=_user(request), status=filters.status, limit=filters.limit)
    return [ComplaintOut(**r.__dict__) for r in rows]


class ComplaintDetailOut(ComplaintOut):
    content: str
    outcome: str
    has_identity: bool
    is_handler: bool
    case_id: int | None
    household_no: str
    finding_id: int | None


def _complaint_out(user: User, complaint_id: int) -> ComplaintDetailOut:
    d = selectors.complaint_detail(user=user, complaint_id=complaint_id)
    c = d.complaint
    return ComplaintDetailOut(
        **d.row.__dict__,
        content=c.content,
        outcome=c.outcome,
        has_identity=d.has_identity,
        is_handler=d.is_handler,
        case_id=c.case_id,
        household_no=d.household_no,
        finding_id=c.finding_id,
    )


@router.get(
    "/supervision/complaints/{complaint_id}",
    response={200: ComplaintDetailOut, **ERRORS},
    openapi_extra=COMPLAINT,
)
def complaint_detail(request: ApiRequest, complaint_id: int):
    """One complaint (never the reporter: see ``/reporter``)."""
    return _complaint_out(_user(request), complaint_id)


class ReporterOut(Schema):
    name: str
    phone: str
    account_phone: str
    channel_label: str


@router.get(
    "/supervision/complaints/{complaint_id}/reporter",
    response={200: ReporterOut, **ERRORS},
    openapi_extra=COMPLAINT,
)
def complaint_reporter(request: ApiRequest, complaint_id: int):
    """The reporter's identity, for the supervisor handling the report only (audited)."""
    identity = selectors.complaint_reporter(user=_user(request), complaint_id=complaint_id)
    return ReporterOut(**identity.__dict__)


@router.post(
    "/supervision/complaints/{complaint_id}/take",
    response={200: ComplaintDetailOut, **ERRORS},
    openapi_extra=COMPLAINT,
)
def complaint_take(request: ApiRequest, complaint_id: int):
    """A supervisor of the district takes the report (the city may take over escalated ones)."""
    from dajiuzhu.supervision.complaints import complaint_take as take

    user = _user(request)
    take(actor=user, complaint_id=complaint_id)
    return _complaint_out(user, complaint_id)


class ComplaintCloseIn(Schema):
    outcome: str = Field(..., max_length=2000)


@router.post(
    "/supervision/complaints/{complaint_id}/close",
    response={200: ComplaintDetailOut, **ERRORS},
    openapi_extra=COMPLAINT,
)
def complaint_close(request: ApiRequest, complaint_id: int, body: ComplaintCloseIn):
    """The handler's written outcome closes the report (the reporter reads it by the code)."""
    from dajiuzhu.supervision.complaints import complaint_close as close

    user = _user(request)
    close(actor=user, complaint_id=complaint_id, outcome=body.outcome)
    return _complaint_out(user, complaint_id)


class ComplaintLinkIn(Schema):
    case_id: int | None = Field(None, ge=1, le=2**53)
    household_no: str = Field("", max_length=30)
    finding_id: int | None = Field(None, ge=1, le=2**53)


@router.post(
    "/supervision/complaints/{complaint_id}/link",
    response={200: ComplaintDetailOut, **ERRORS},
    openapi_extra=COMPLAINT,
)
def complaint_link(request: ApiRequest, complaint_id: int, body: ComplaintLinkIn):
    """The handler links the report to a case, a household or a fund finding of their scope."""
    from dajiuzhu.supervision.complaints import complaint_link as link

    user = _user(request)
    link(
        actor=user,
        complaint_id=complaint_id,
        case_id=body.case_id,
        household_no=body.household_no,
        finding_id=body.finding_id,
    )
    return _complaint_out(user, complaint_id)
