"""API of the policy library: the programme catalogue, the residents' self-check, the
candidates of 政策找人, and dated parameter values."""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from dajiuzhu.core.apiauth import session_auth
from dajiuzhu.core.errors import ServiceError
from dajiuzhu.core.schemas import ErrorOut
from dajiuzhu.policy import catalogue, engine, selectors, services
from dajiuzhu.web.requests import ApiRequest
from dajiuzhu.web.requests import api_user as _user

router = Router(tags=["救助政策库"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
NONE = {"x-personal-data": "none"}


class StepOut(Schema):
    step: str
    label: str
    limit_days: int | None = Field(None, description="时限（单位见 unit）；空表示受全案时限约束")
    unit: str = ""
    counted_from: str | None = None


class IntakeOut(Schema):
    documents: list[str]
    commitment: bool = Field(..., description="接受告知承诺")
    missing_documents: bool = Field(..., description="可容缺受理")
    decided_by_department: str
    decided_by_level: str = Field(..., description="town 镇（街道）/ district 区（市）")
    workflow: str = Field(..., description="statutory 法定程序 / short 简易流程")
    steps: list[StepOut]
    whole_case_days: int
    extended_case_days: int | None = None
    publicity: bool
    minors_posted: bool | None = None
    advance_payment: bool = Field(..., description="可先行救助")


class ProgrammeOut(Schema):
    code: str
    name: str
    department: str
    category: str
    target: str
    benefit: str
    legal_basis: str
    documents: list[str]
    commitment: bool
    deadline_days: int
    variables: list[str]
    plain: str
    how_to_apply: str
    intake: IntakeOut


class MemberIn(Schema):
    age: int = Field(..., ge=0, le=120)
    wage_income: float = Field(0, ge=0, le=1e8)
    other_income: float = Field(0, ge=0, le=1e8)
    exempt_income: float = Field(0, ge=0, le=1e8)
    disability_grade: int = Field(0, ge=0, le=4)
    disability_kind: str = Field(
        "none", pattern="^(none|visual|hearing|speech|physical|intellectual|psychiatric|multiple)$"
    )
    has_serious_illness: bool = False
    has_able_supporter: bool | None = None


class CalculateIn(Schema):
    month: str | None = Field(None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    district_code: str = Field(..., pattern=r"^3204(02|04|11|12|13|81)$")
    members: list[MemberIn] = Field(..., min_length=1, max_length=12)
    financial_assets: float = Field(0, ge=0, le=1e10)
    non_exempt_vehicles: int = Field(0, ge=0, le=50)
    extra_residential_units: int = Field(0, ge=0, le=100)
    runs_active_business: bool = False
    rigid_expenditure: float = Field(0, ge=0, le=1e8)


class ConditionOut(Schema):
    label_zh: str
    held: bool
    left: object | None = None
    op: str | None = None
    right: object | None = None


class ProgrammeResultOut(Schema):
    programme: str
    label_zh: str
    subject: str
    eligible: bool
    amount: float | None = None
    rate: float | None = None


class RuleOut(Schema):
    rule: str
    label_zh: str
    subject: str
    held: bool | None
    conditions: list[ConditionOut]


class CalculateOut(Schema):
    month: str
    dibao_standard: float
    programmes: list[ProgrammeResultOut]
    rules: list[RuleOut]


class CandidateOut(Schema):
    id: int
    month: str
    programme: str
    household_no: str
    town: str
    estimated_amount: float | None
    figures: dict
    status: str


class ParameterIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    start: date
    value: float
    reference: str = Field(..., min_length=1, max_length=300)


class ParameterOut(Schema):
    name: str
    start: date
    value: float
    reference: str


def _programme_out(p: catalogue.Programme, system) -> ProgrammeOut:
    today = timezone.localdate()
    intake = p.intake
    deadline = selectors.programme_deadline_days(p, on=today, system=system)
    extended = (
        selectors.programme_deadline_days(p, on=today, extended=True, system=system)
        if intake.extended_case
        else None
    )
    return ProgrammeOut(
        code=p.code,
        name=p.name,
        department=p.department,
        category=p.category,
        target=p.target,
        benefit=p.benefit,
        legal_basis=p.legal_basis,
        documents=list(intake.documents),
        commitment=intake.commitment,
        deadline_days=deadline,
        variables=list(p.variables),
        plain=p.plain,
        how_to_apply=p.how_to_apply,
        intake=IntakeOut(
            documents=list(intake.documents),
            commitment=intake.commitment,
            missing_documents=intake.missing_documents,
            decided_by_department=intake.decided_by.department,
            decided_by_level=intake.decided_by.level,
            workflow=intake.workflow,
            steps=[
                StepOut(
                    step=s.step,
                    label=s.label,
                    limit_days=s.days,
                    unit=s.unit_zh,
                    counted_from=s.counted_from,
                )
                for s in selectors.programme_steps(p, on=today, system=system)
            ],
            whole_case_days=deadline,
            extended_case_days=extended,
            publicity=intake.publicity is not None,
            minors_posted=intake.publicity.minors if intake.publicity else None,
            advance_payment=intake.advance_payment is not None,
        ),
    )


@router.get("/policy/programmes", response=list[ProgrammeOut], auth=None, openapi_extra=NONE)
def programmes(request: ApiRequest):
    """The catalogue of the 32 programmes (救助政策库)."""
    system = selectors.policy_system()
    return [_programme_out(p, system) for p in catalogue.load_catalogue()]


@router.get(
    "/policy/programmes/{code}",
    response={200: ProgrammeOut, 404: ErrorOut},
    auth=None,
    openapi_extra=NONE,
)
def programme(request: ApiRequest, code: str):
    try:
        return _programme_out(catalogue.programme(code), selectors.policy_system())
    except KeyError:
        return Status(404, {"code": "not_found", "message": "没有该救助政策"})


@router.post(
    "/policy/calculate", response={200: CalculateOut, 400: ErrorOut}, auth=None, openapi_extra=NONE
)
def calculate(request: ApiRequest, payload: CalculateIn):
    """The self-check: which programmes may apply, with amounts and reasons. Nothing stored."""
    month = payload.month or timezone.localdate().strftime("%Y-%m")
    members = [m.dict() for m in payload.members]
    working = sum(1 for m in members if 18 <= m["age"] <= 59)
    for i, m in enumerate(members):
        m["id"] = f"p{i + 1}"
        if m["has_able_supporter"] is None:
            m["has_able_supporter"] = working - (1 if 18 <= m["age"] <= 59 else 0) > 0
    household = payload.dict(exclude={"members", "month"})
    try:
        result = engine.explain(selectors.policy_system(), month, members, household)
    except engine.PolicyError as exc:
        raise ServiceError(f"policy.{exc.code}", exc.message_zh) from None
    return CalculateOut(
        month=month,
        dibao_standard=result.dibao_standard,
        programmes=[ProgrammeResultOut(**p.__dict__) for p in result.programmes],
        rules=[
            RuleOut(
                rule=r.rule,
                label_zh=r.label_zh,
                subject=r.subject,
                held=r.held,
                conditions=[
                    ConditionOut(
                        label_zh=c.label_zh, held=c.held, left=c.left, op=c.op, right=c.right
                    )
                    for c in r.conditions
                ],
            )
            for r in result.rules
        ],
    )


@router.get(
    "/policy/candidates",
    response={200: list[CandidateOut], **ERRORS},
    auth=session_auth,
    openapi_extra={"x-personal-data": "candidate_list"},
)
def candidates(
    request: ApiRequest,
    month: str | None = Query(None, pattern=r"^\d{4}-\d{2}$"),
    programme: str | None = Query(None, max_length=30),
    status: str | None = Query("open", max_length=15),
):
    """Candidates of 政策找人 in the caller's towns."""
    rows = selectors.candidates_for(
        user=_user(request), month=month, programme=programme, status=status or None
    )
    return [
        CandidateOut(
            id=c.pk,
            month=c.month,
            programme=c.programme,
            household_no=c.household_no,
            town=c.town_id,
            estimated_amount=float(c.estimated_amount) if c.estimated_amount is not None else None,
            figures=c.figures,
            status=c.status,
        )
        for c in rows
    ]


@router.get(
    "/policy/parameters",
    response={200: list[ParameterOut], **ERRORS},
    auth=session_auth,
    openapi_extra=NONE,
)
def parameter_values(request: ApiRequest):
    """The dated values administrators added on top of the rules' YAML parameters."""
    _user(request)
    return [
        ParameterOut(name=o.name, start=o.start, value=float(o.value), reference=o.reference)
        for o in selectors.parameter_list()
    ]


@router.post(
    "/policy/parameters",
    response={201: ParameterOut, **ERRORS},
    auth=session_auth,
    openapi_extra=NONE,
)
def parameter_add(request: ApiRequest, payload: ParameterIn):
    o = services.parameter_value_add(
        actor=_user(request),
        name=payload.name,
        start=payload.start,
        value=str(payload.value),
        reference=payload.reference,
    )
    return Status(
        201, ParameterOut(name=o.name, start=o.start, value=float(o.value), reference=o.reference)
    )
