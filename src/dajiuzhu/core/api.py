from __future__ import annotations

from datetime import datetime

from ninja import Field, Router, Schema, Status

from dajiuzhu.core import selectors, services
from dajiuzhu.core.apiauth import session_auth
from dajiuzhu.core.schemas import ErrorOut
from dajiuzhu.web.requests import ApiRequest
from dajiuzhu.web.requests import api_user as _user

router = Router(tags=["平台基础"])
NONE = {"x-personal-data": "none"}
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class MeOut(Schema):
    username: str
    display_name: str
    role: str
    role_label: str
    scope: str | None
    department: str | None


class DivisionOut(Schema):
    code: str
    name: str
    level: str
    parent: str | None = Field(None, alias="parent_id")


class DivisionIn(Schema):
    parent_code: str = Field(..., min_length=6, max_length=15, pattern=r"^\d+$")
    code: str = Field(..., min_length=12, max_length=15, pattern=r"^\d+$")
    name: str = Field(..., min_length=1, max_length=60)


class DepartmentOut(Schema):
    code: str
    name: str
    kind: str


class TokenIn(Schema):
    department: str = Field(..., max_length=30)
    name: str = Field(..., min_length=1, max_length=100)


class TokenOut(Schema):
    id: int
    department: str = Field(..., alias="department_id")
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str


@router.get(
    "/me",
    response={200: MeOut, **ERRORS},
    auth=session_auth,
    openapi_extra={"x-personal-data": "self"},
)
def me(request: ApiRequest):
    user = _user(request)
    return MeOut(
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        role_label=user.get_role_display(),
        scope=user.scope_id,
        department=user.department_id,
    )


@router.get("/divisions", response=list[DivisionOut], auth=None, openapi_extra=NONE)
def divisions(request: ApiRequest, parent: str | None = None, level: str | None = None):
    return list(selectors.division_list(parent_code=parent, level=level)[:2000])


@router.post(
    "/divisions", response={201: DivisionOut, **ERRORS}, auth=session_auth, openapi_extra=NONE
)
def division_create(request: ApiRequest, payload: DivisionIn):
    division = services.division_create(
        actor=_user(request), parent_code=payload.parent_code, code=payload.code, name=payload.name
    )
    return Status(201, division)


@router.get("/departments", response=list[DepartmentOut], auth=None, openapi_extra=NONE)
def departments(request: ApiRequest):
    return list(selectors.department_list())


@router.get(
    "/tokens", response={200: list[TokenOut], **ERRORS}, auth=session_auth, openapi_extra=NONE
)
def tokens(request: ApiRequest):
    return list(selectors.api_token_list(user=_user(request)))


@router.post(
    "/tokens", response={201: TokenCreatedOut, **ERRORS}, auth=session_auth, openapi_extra=NONE
)
def token_create(request: ApiRequest, payload: TokenIn):
    token, clear = services.api_token_create(
        actor=_user(request), department_code=payload.department, name=payload.name
    )
    out = TokenOut.from_orm(token).dict()
    return Status(201, {**out, "department_id": token.department_id, "token": clear})


@router.post(
    "/tokens/{token_id}/revoke",
    response={200: TokenOut, **ERRORS},
    auth=session_auth,
    openapi_extra=NONE,
)
def token_revoke(request: ApiRequest, token_id: int):
    return services.api_token_revoke(actor=_user(request), token_id=token_id)
