"""HTTP API of unified intake for external portals (the province's 政务服务 portal and
similar): submit an application with a department client token (channel ``portal``), have
signing codes sent to adult members, and read an application's status. Tokens of the
departments in ``PORTAL_DEPARTMENTS`` may submit; a token reads only what it submitted; staff
sessions read the status of applications in their scope."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from ninja import Field, Router, Schema, Status

from dajiuzhu.cases import services
from dajiuzhu.cases.access import access_application_by_no
from dajiuzhu.cases.models import Application, Channel
from dajiuzhu.core.access import AccessDenied, NotFound
from dajiuzhu.core.apiauth import session_auth, token_auth
from dajiuzhu.core.models import ApiToken, User
from dajiuzhu.core.schemas import ErrorOut
from dajiuzhu.web.requests import ApiRequest

router = Router(tags=["救助申请"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
# The intake's owner (民政) issues the tokens external portals submit with.
PORTAL_DEPARTMENTS = frozenset({"minzheng"})


class CaseSignedMemberIn(Schema):
    id_number: str = Field(..., min_length=1, max_length=20)
    code: str = Field(..., min_length=1, max_length=6)


class CaseApplicationIn(Schema):
    client_token: str = Field(..., min_length=1, max_length=60, description="幂等键")
    id_number: str = Field(..., min_length=1, max_length=20)
    programmes: list[str] = Field(..., min_length=1, max_length=32)
    authorisations: list[CaseSignedMemberIn] = Field(default_factory=list, max_length=20)
    commitment: bool
    missing_documents: list[str] = Field(default_factory=list, max_length=20)


class CaseSigningCodeIn(Schema):
    id_number: str = Field(..., min_length=1, max_length=20)


class CaseStepOut(Schema):
    step: str
    label: str
    round: int
    started_on: date | None
    due_on: date | None
    done_at: datetime | None
    outcome: str


class CaseOut(Schema):
    id: int
    programme: str
    programme_name: str
    status: str
    status_label: str
    accepted_on: date
    due_on: date
    decided_on: date | None
    amount: Decimal | None
    start_month: str
    steps: list[CaseStepOut]


class CaseMissingDocumentOut(Schema):
    name: str
    deadline: date
    received: bool


class CaseApplicationOut(Schema):
    application_no: str
    channel: str
    town_code: str
    submitted_at: datetime
    cases: list[CaseOut]
    missing_documents: list[CaseMissingDocumentOut]


class CaseSigningCodeSentOut(Schema):
    sent: bool


def _portal_token(request: ApiRequest) -> ApiToken:
    if isinstance(request.auth, ApiToken) and request.auth.department_id in PORTAL_DEPARTMENTS:
        return request.auth
    raise AccessDenied("只有经民政部门授权的政务服务平台令牌可以提交申请")


def _out(app: Application) -> CaseApplicationOut:
    from django.utils import timezone

    from dajiuzhu.cases.selectors import _steps, programme_name

    today = timezone.localdate()
    cases = []
    for c in app.cases.order_by("pk"):
        cases.append(
            CaseOut(
                id=c.pk,
                programme=c.programme,
                programme_name=programme_name(c.programme),
                status=c.status,
                status_label=c.get_status_display(),
                accepted_on=c.accepted_on,
                due_on=c.due_on,
                decided_on=c.decided_on,
                amount=c.amount,
                start_month=c.start_month,
                steps=[
                    CaseStepOut(
                        step=s.step,
                        label=s.label,
                        round=s.round,
                        started_on=s.started_on,
                        due_on=s.due_on,
                        done_at=s.done_at,
                        outcome=s.outcome,
                    )
                    for s in _steps(c, today)
                ],
            )
        )
    return CaseApplicationOut(
        application_no=app.application_no,
        channel=app.channel,
        town_code=app.town_id,
        submitted_at=app.submitted_at,
        cases=cases,
        missing_documents=[
            CaseMissingDocumentOut(
                name=m.name, deadline=m.deadline, received=m.received_at is not None
            )
            for m in app.missing_documents.all()
        ],
    )


def _member_ids(numbers: list[CaseSignedMemberIn]) -> dict[int, str]:
    out = {}
    for m in numbers:
        person = services.applicant_for_id_number(m.id_number)
        out[person.pk] = m.code
    return out


@router.post(
    "/cases/applications",
    response={201: CaseApplicationOut, 200: CaseApplicationOut, **ERRORS},
    auth=[token_auth, session_auth],
    openapi_extra={"x-personal-data": "intake"},
)
def application_submit(request: ApiRequest, payload: CaseApplicationIn):
    """Submit an application from an external portal (channel ``portal``); the same
    ``client_token`` again returns the application it created (200)."""
    token = _portal_token(request)
    before = Application.objects.filter(
        idempotency_key=f"t{token.pk}:{payload.client_token.strip()[:60]}"
    ).exists()
    app = services.application_submit(
        actor=None,
        token=token,
        channel=Channel.PORTAL,
        id_number=payload.id_number,
        programmes=payload.programmes,
        otp_codes=_member_ids(payload.authorisations),
        commitment=payload.commitment,
        missing_documents=payload.missing_documents,
        idempotency_key=payload.client_token,
    )
    return Status(200 if before else 201, _out(app))


@router.post(
    "/cases/signing-codes",
    response={200: CaseSigningCodeSentOut, **ERRORS},
    auth=[token_auth, session_auth],
    openapi_extra={"x-personal-data": "intake"},
)
def signing_code(request: ApiRequest, payload: CaseSigningCodeIn):
    """Send a signing code to an adult member's registered phone (the portal's applicant
    passes it on with the submission)."""
    _portal_token(request)
    person = services.applicant_for_id_number(payload.id_number)
    services.signing_code_send(actor=None, person_id=person.pk)
    return CaseSigningCodeSentOut(sent=True)


@router.get(
    "/cases/applications/{application_no}",
    response={200: CaseApplicationOut, **ERRORS},
    auth=[token_auth, session_auth],
    openapi_extra={"x-personal-data": "case"},
)
def application_status(request: ApiRequest, application_no: str):
    """An application's status: every case, step, due date and outcome."""
    if isinstance(request.auth, ApiToken):
        token = request.auth
        app = Application.objects.filter(
            application_no=application_no[:20], client_label=f"{token.department_id}:{token.prefix}"
        ).first()
        if app is None:
            raise NotFound
        return _out(app)
    if isinstance(request.auth, User):
        return _out(access_application_by_no(request.auth, application_no[:20]))
    raise AccessDenied
