"""HTTP API of payments (staff sessions; CSRF on writes): the month's rosters, building them,
releasing one (a second person), the bank's returns, and a resident's own payments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from ninja import File, Query, Router, Schema, UploadedFile
from pydantic import Field

from dajiuzhu.core.apiauth import session_auth
from dajiuzhu.core.errors import ServiceError
from dajiuzhu.core.schemas import ErrorOut
from dajiuzhu.payments import bank, selectors, services
from dajiuzhu.payments.tasks import publish_roster
from dajiuzhu.policy import catalogue
from dajiuzhu.web.requests import ApiRequest
from dajiuzhu.web.requests import api_user as _user

router = Router(tags=["救助金发放"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class RosterOut(Schema):
    id: int
    district: str
    district_name: str
    programme: str
    programme_name: str
    month: str
    seq: int
    status: str
    lines: int
    total: Decimal
    prepared_at: datetime
    released_at: datetime | None
    paid_date: date | None
    lake_batch: int | None


def _roster(r) -> dict:
    return {
        "id": r.pk,
        "district": r.district_id,
        "district_name": r.district.name,
        "programme": r.programme,
        "programme_name": catalogue.names().get(r.programme, r.programme),
        "month": r.month,
        "seq": r.seq,
        "status": r.status,
        "lines": r.lines,
        "total": r.total,
        "prepared_at": r.prepared_at,
        "released_at": r.released_at,
        "paid_date": r.paid_date,
        "lake_batch": r.lake_batch,
    }


class RosterBuildIn(Schema):
    month: str = Field(..., min_length=1, max_length=10, description="发放月份 YYYY-MM")
    district: str | None = Field(None, max_length=6, description="区(市)代码;不填为管辖范围内全部")


class RosterBuildOut(Schema):
    month: str
    rosters_created: int
    lines_added: int
    lines_updated: int
    lines_removed: int
    resent: int
    deceased: int
    unchanged_rosters: int
    rosters: list[dict]


class ReturnRefusedOut(Schema):
    row: int
    code: str
    message: str


class ReturnsOut(Schema):
    district: str
    rows: int
    returned: int
    already: int
    refused: list[ReturnRefusedOut]
    duplicate_file: bool


class MyPaymentOut(Schema):
    payment_id: str
    programme: str
    programme_name: str
    month: str
    amount: Decimal
    status: str
    status_label: str
    paid_date: date | None
    returned_on: date | None
    return_reason: str


@router.get(
    "/payments/rosters",
    response={200: list[RosterOut], **ERRORS},
    auth=session_auth,
    summary="发放名册列表",
    description="管辖范围内某月(不填为最近一个有名册的月份)的发放名册:区(市)、救助项目、批次、笔数、金额、状态。",
    openapi_extra={"x-personal-data": "roster_list"},
)
def roster_list(request: ApiRequest, month: str | None = Query(None, max_length=7)):
    user = _user(request)
    month = month or selectors.latest_roster_month(user=user)
    return [_roster(r) for r in selectors.roster_list(user=user, month=month)]


@router.post(
    "/payments/rosters",
    response={200: RosterBuildOut, **ERRORS},
    auth=session_auth,
    summary="编制发放名册",
    description=(
        "区(市)经办人编制或更新某月的发放名册(每个救助项目一份);重复编制不产生新记录。"
        "正常名册审核发放后,新增的应发记录和待重新发放的退回记录列入补发名册。"
    ),
    openapi_extra={"x-personal-data": "roster_list"},
)
def roster_build(request: ApiRequest, payload: RosterBuildIn):
    summary = services.roster_build(
        actor=_user(request), month=payload.month, district=payload.district
    )
    return summary.as_dict()


@router.post(
    "/payments/rosters/{roster_id}/release",
    response={200: RosterOut, **ERRORS},
    auth=session_auth,
    summary="审核发放名册",
    description="审批人(不能是编制人)审核发放名册;此后名册不能修改,并写入数据湖供资金核查。",
    openapi_extra={"x-personal-data": "roster"},
)
def roster_release(request: ApiRequest, roster_id: int):
    roster = services.roster_release(actor=_user(request), roster_id=roster_id)
    publish_roster(roster.pk)
    return _roster(roster)


@router.post(
    "/payments/returns",
    response={200: ReturnsOut, **ERRORS},
    auth=session_auth,
    summary="导入银行退回文件",
    description=(
        "上传银行退回的代发失败记录(CSV 或 XLSX,含发放流水号列,可含退回原因列)。"
        "不属于本区(市)或不存在的流水号逐行拒绝;同一文件重复导入不改变任何记录。"
    ),
    openapi_extra={"x-personal-data": "roster_list"},
)
def returns_import(request: ApiRequest, file: File[UploadedFile]):
    user = _user(request)
    if file.size and file.size > bank.MAX_RETURN_BYTES:
        raise ServiceError("payments.returns_file", "退回文件超过20MB")
    content = file.read()
    summary = services.returns_import(
        actor=user,
        rows=bank.read_returns(content, file.name or "returns"),
        name=file.name or "returns",
        digest=services.file_digest(content),
    )
    return summary.as_dict()


@router.get(
    "/payments/mine",
    response={200: list[MyPaymentOut], **ERRORS},
    auth=session_auth,
    summary="我的救助金",
    description="居民本人(手机号登录)的每月救助金:金额、发放日期、状态(已发放、银行退回、已重新发放)。",
    openapi_extra={"x-personal-data": "self"},
)
def my_payments(request: ApiRequest):
    names = catalogue.names()
    return [
        {
            "payment_id": p.payment_id,
            "programme": p.programme,
            "programme_name": names.get(p.programme, p.programme),
            "month": p.month,
            "amount": p.amount,
            "status": p.status,
            "status_label": p.get_status_display(),
            "paid_date": p.paid_date,
            "returned_on": p.returned_on,
            "return_reason": p.return_reason,
        }
        for p in selectors.my_payments(user=_user(request))[:240]
    ]
