"""HTTP API of the care centre.

* ``POST /care/events`` — a device on a mobile network sends the same JSON as over MQTT, with
  its device token (``Authorization: Bearer djd_…``); it goes through the intake's one code path.
* The console's reads and writes for staff sessions (CSRF on writes): open alarms, accept,
  outcome, close.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.security import HttpBearer

from dajiuzhu.care import selectors, services
from dajiuzhu.care.intake import ingest, topic_for
from dajiuzhu.care.models import Device, RejectReason
from dajiuzhu.core.access import AccessDenied
from dajiuzhu.core.apiauth import session_auth
from dajiuzhu.core.schemas import ErrorOut
from dajiuzhu.web.requests import ApiRequest
from dajiuzhu.web.requests import api_user as _user

router = Router(tags=["暖心护航"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class DeviceToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Device | None:
        return services.device_by_token(token)


class CareEventOut(Schema):
    status: str
    event_id: str
    alarms: list[int]


@router.post(
    "/care/events",
    auth=DeviceToken(),
    response={200: CareEventOut, 202: CareEventOut, **ERRORS},
    openapi_extra={
        "x-personal-data": "none",
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
    },
    summary="设备通过 HTTPS 上报事件(与 MQTT 消息相同的 JSON)",
)
def event_post(request: ApiRequest):
    device = request.auth
    if not isinstance(device, Device):
        raise AccessDenied
    result = ingest(topic_for(device.device_id), request.body)
    if result.status == "rejected":
        return Status(
            400,
            {
                "code": f"care.{result.reason}",
                "message": f"消息被拒收:{RejectReason(result.reason).label}",
            },
        )
    body = {"status": result.status, "event_id": result.event_id, "alarms": result.alarms}
    return Status(202 if result.status == "accepted" else 200, body)


class CareAlarmOut(Schema):
    id: int
    rule: str
    rule_label: str
    status: str
    raised_at: datetime
    accepted_by: str
    escalated: bool
    outcome: str
    person_name: str


def _out(alarm) -> dict:
    return {
        "id": alarm.pk,
        "rule": alarm.rule,
        "rule_label": alarm.get_rule_display(),
        "status": alarm.status,
        "raised_at": alarm.raised_at,
        "accepted_by": alarm.accepted_by.username if alarm.accepted_by_id else "",
        "escalated": alarm.escalated,
        "outcome": alarm.outcome,
        "person_name": alarm.person.name,
    }


@router.get(
    "/care/alarms",
    auth=session_auth,
    response={200: list[CareAlarmOut], **ERRORS},
    openapi_extra={"x-personal-data": "care_alarm_list"},
    summary="未关闭的报警(本辖区)",
)
def alarm_list(request: ApiRequest, technical: bool = False):
    return [_out(a) for a in selectors.alarms_open(user=_user(request), technical=technical)]


@router.post(
    "/care/alarms/{alarm_id}/accept",
    auth=session_auth,
    response={200: CareAlarmOut, **ERRORS},
    openapi_extra={"x-personal-data": "care_alarm"},
    summary="接警(只有一名坐席能接)",
)
def alarm_accept(request: ApiRequest, alarm_id: int):
    services.alarm_accept(actor=_user(request), alarm_id=alarm_id)
    return _out(selectors.alarm_get(user=_user(request), alarm_id=alarm_id))


class AlarmOutcomeIn(Schema):
    outcome: str
    note: str = ""


@router.post(
    "/care/alarms/{alarm_id}/outcome",
    auth=session_auth,
    response={200: CareAlarmOut, **ERRORS},
    openapi_extra={"x-personal-data": "care_alarm"},
    summary="记录回访和处置结果(visit:派网格员上门)",
)
def alarm_outcome(request: ApiRequest, alarm_id: int, payload: AlarmOutcomeIn):
    services.alarm_record_outcome(
        actor=_user(request), alarm_id=alarm_id, outcome=payload.outcome, note=payload.note
    )
    return _out(selectors.alarm_get(user=_user(request), alarm_id=alarm_id))


class AlarmCloseIn(Schema):
    closure_code: str


@router.post(
    "/care/alarms/{alarm_id}/close",
    auth=session_auth,
    response={200: CareAlarmOut, **ERRORS},
    openapi_extra={"x-personal-data": "care_alarm"},
    summary="关闭报警(关闭代码)",
)
def alarm_close(request: ApiRequest, alarm_id: int, payload: AlarmCloseIn):
    services.alarm_close(actor=_user(request), alarm_id=alarm_id, closure_code=payload.closure_code)
    return _out(selectors.alarm_get(user=_user(request), alarm_id=alarm_id))
