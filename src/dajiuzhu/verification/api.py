"""API of the household economic-status check."""

from __future__ import annotations

from datetime import date

from ninja import Field, Router, Schema, Status

from dajiuzhu.core.apiauth import session_auth
from dajiuzhu.core.roles import Purpose
from dajiuzhu.core.schemas import ErrorOut
from dajiuzhu.verification import selectors, services
from dajiuzhu.web.requests import ApiRequest
from dajiuzhu.web.requests import api_user as _user

router = Router(tags=["家庭经济状况核对"], auth=session_auth)
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class CheckIn(Schema):
    month: str = Field(..., pattern=r"^\d{4}-\d{2}$")
    purpose: str = Field(
        Purpose.VERIFICATION.value, pattern="^(verification|casework|supervision)$"
    )


class ReportOut(Schema):
    id: int
    household_id: int
    month: str
    purpose: str
    complete: bool
    created_at: object
    report: dict


class AuthorisationIn(Schema):
    signed_on: date
    expires_on: date
    document_ref: str = Field("", max_length=60)


class AuthorisationOut(Schema):
    id: int
    person_id: int
    household_id: int
    signed_on: date
    expires_on: date


def _report_out(r) -> ReportOut:
    return ReportOut(
        id=r.pk,
        household_id=r.household_id,
        month=r.month,
        purpose=r.purpose,
        complete=r.complete,
        created_at=r.created_at,
        report=r.report,
    )


@router.post(
    "/verification/households/{household_id}/checks",
    response={201: ReportOut, **ERRORS},
    openapi_extra={"x-personal-data": "household"},
)
def check(request: ApiRequest, household_id: int, payload: CheckIn):
    """Run the check (核对) for a month; refused unless every adult member has a valid signed
    authorisation. The report lists sources, values used, results and each rule's conditions.
    Members are referenced by their registry id (names via the household file)."""
    report = services.verify(
        actor=_user(request),
        household_id=household_id,
        month=payload.month,
        purpose=payload.purpose,
    )
    return Status(201, _report_out(report))


@router.get(
    "/verification/reports/{report_id}",
    response={200: ReportOut, **ERRORS},
    openapi_extra={"x-personal-data": "report"},
)
def report(request: ApiRequest, report_id: int):
    return _report_out(
        selectors.report_get(user=_user(request), report_id=report_id, purpose=Purpose.VERIFICATION)
    )


@router.post(
    "/verification/persons/{person_id}/authorisations",
    response={201: AuthorisationOut, **ERRORS},
    openapi_extra={"x-personal-data": "person"},
)
def authorise(request: ApiRequest, person_id: int, payload: AuthorisationIn):
    """Record a member's signed authorisation (授权书)."""
    a = services.authorisation_record(
        actor=_user(request),
        person_id=person_id,
        signed_on=payload.signed_on,
        expires_on=payload.expires_on,
        document_ref=payload.document_ref,
    )
    return Status(
        201,
        AuthorisationOut(
            id=a.pk,
            person_id=a.person_id,
            household_id=a.household_id,
            signed_on=a.signed_on,
            expires_on=a.expires_on,
        ),
    )
