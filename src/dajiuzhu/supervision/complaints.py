"""Writes on complaints and reports (投诉举报): the report itself (a resident on the phone, or
anyone on the public page), the supervisor taking it, linking it to a case, a household or a
fund finding, the written outcome that closes it, and the escalation of overdue reports.

Each write is atomic and audited in the same transaction. The reporter's name and phone are
encrypted at rest and never written to the audit log; the public form is throttled per browser
session and per address (keyed hashes, as the phone log-in's codes are), length-limited and
refuses invisible control characters.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import date, timedelta

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from dajiuzhu.core import crypto
from dajiuzhu.core.access import AccessDenied, NotFound
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.calendar import add_working_days
from dajiuzhu.core.idnumber import InvalidPhone, normalise_phone
from dajiuzhu.core.models import Division, DivisionLevel, User
from dajiuzhu.core.roles import Purpose, Role
from dajiuzhu.core.services import ServiceError
from dajiuzhu.core.text import has_control_chars
from dajiuzhu.registry.models import Household
from dajiuzhu.supervision import parameters
from dajiuzhu.supervision.access import (
    access_complaint_by_id,
    access_finding_by_id,
    require_complaint_handler,
)
from dajiuzhu.supervision.models import (
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintStatus,
)

MAX_CONTENT = 2000
MIN_CONTENT = 10
MAX_SUBJECT = 100
MAX_NAME = 30
MAX_OUTCOME = 2000
CITY_PREFIX = "3204"
# No 0/O, 1/I/L: a code read out over the phone or copied by hand survives.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12


def new_tracking_code() -> str:
    return "JB" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_tracking_code(raw: str) -> str:
    """What the reporter typed, as stored: upper case, spaces and hyphens dropped."""
    return "".join(ch for ch in (raw or "").upper() if ch not in " -\t")[:16]


def _client_index(kind: str, value: str) -> str:
    if not value:
        return ""
    key = crypto.index_key()
    return hmac.digest(key, f"complaint-client:{kind}:{value}".encode(), "sha256").hex()


def _text(value: str, *, field: str, label: str, limit: int, minimum: int = 0) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise ServiceError(f"complaint.{field}", f"{label}不能超过{limit}字", field=field)
    if len(value) < minimum:
        raise ServiceError(
            f"complaint.{field}",
            f"{label}请至少写{minimum}个字,说清楚时间、地点和事情经过",
            field=field,
        )
    if has_control_chars(value):
        raise ServiceError(f"complaint.{field}", f"{label}含有不可见的控制字符", field=field)
    return value


def _division(code: str) -> Division:
    code = (code or "").strip()
    division = Division.objects.filter(
        code=code,
        code__startswith=CITY_PREFIX,
        level__in=[DivisionLevel.DISTRICT, DivisionLevel.TOWN],
    ).first()
    if division is None:
        raise ServiceError(
            "complaint.division", "请选择所反映问题发生地所在的区(市)或镇(街道)", field="division"
        )
    return division


def _throttle(*, now, reporter: User | None, session_index: str, ip_index: str) -> None:
    recent = Complaint.objects.filter(received_at__gte=now - timedelta(hours=1))
    per_client = settings.COMPLAINT_MAX_PER_SESSION
    if reporter is not None and recent.filter(reporter=reporter).count() >= per_client:
        raise ServiceError(
            "complaint.rate_limited", "您一小时内已提交多件举报,请一小时后再提交", field="content"
        )
    if session_index and recent.filter(session_index=session_index).count() >= per_client:
        raise ServiceError(
            "complaint.rate_limited",
            "本设备一小时内已提交多件举报,请一小时后再提交",
            field="content",
        )
    if ip_index and (
        recent.filter(client_ip_index=ip_index).count() >= settings.COMPLAINT_MAX_PER_IP
    ):
        raise ServiceError(
            "complaint.rate_limited", "当前网络提交举报过于频繁,请一小时后再提交", field="content"
        )


@transaction.atomic
def complaint_submit(
    *,
    actor: User | None,
    category: str,
    content: str,
    division_code: str,
    subject: str = "",
    name: str = "",
    phone: str = "",
    session_key: str = "",
    client_ip: str = "",
) -> Complaint:
    """Record a report and send it to the competent district's queue.

    ``actor`` is a logged-in resident (channel 手机端; the account is the reporter) or None (the
    public page; anonymous unless a name or phone is given). Staff report as anyone does, on
    the public page."""
    if actor is not None and actor.role != Role.RESIDENT:
        raise ServiceError("complaint.not_resident", "请使用居民账号登录后提交,或在公开页面提交")
    if category not in ComplaintCategory.values:
        raise ServiceError("complaint.category", "请选择举报类别", field="category")
    content = _text(
        content, field="content", label="反映内容", limit=MAX_CONTENT, minimum=MIN_CONTENT
    )
    subject = _text(subject, field="subject", label="反映对象或事项", limit=MAX_SUBJECT)
    name = _text(name, field="name", label="姓名", limit=MAX_NAME)
    phone = (phone or "").strip()
    if phone:
        try:
            phone = normalise_phone(phone[:20])
        except InvalidPhone:
            raise ServiceError(
                "complaint.phone", "联系电话应为11位手机号码(可不填)", field="phone"
            ) from None
    division = _division(division_code)
    now = timezone.now()
    session_index = _client_index("session", session_key)
    ip_index = _client_index("ip", client_ip)
    _throttle(now=now, reporter=actor, session_index=session_index, ip_index=ip_index)
    today = timezone.localdate(now)
    fields = dict(
        category=category,
        subject=subject,
        content=content,
        division_code=division.code,
        district_code=division.code[:6],
        channel=ComplaintChannel.PORTAL if actor is not None else ComplaintChannel.PUBLIC,
        reporter=actor,
        reporter_name_enc=crypto.encrypt(name, field="complaint.name") if name else None,
        reporter_phone_enc=crypto.encrypt(phone, field="complaint.phone") if phone else None,
        session_index=session_index,
        client_ip_index=ip_index,
        received_at=now,
        due_date=add_working_days(today, parameters.complaint_days(today)),
    )
    for _attempt in range(5):  # a repeated random code (1 in 31^12) is drawn again
        try:
            with transaction.atomic():
                complaint = Complaint.objects.create(tracking_code=new_tracking_code(), **fields)
            break
        except IntegrityError:
            continue
    else:  # pragma: no cover - five collisions of a 60-bit code
        raise ServiceError("complaint.code", "暂时无法生成查询码,请稍后再试")
    audit_record(
        actor=actor,
        action="supervision.complaint.submit",
        object_type="complaint",
        object_id=complaint.pk,
        purpose=Purpose.SELF if actor is not None else Purpose.SUPERVISION,
        label=None if actor is not None else "public:complaint",
        detail={
            "category": category,
            "district": complaint.district_code,
            "channel": complaint.channel,
            "named": bool(name or phone or actor),
        },
    )
    return complaint


def _audit(actor: User, complaint: Complaint, action: str, **detail) -> None:
    audit_record(
        actor=actor,
        action=f"supervision.complaint.{action}",
        object_type="complaint",
        object_id=complaint.pk,
        purpose=Purpose.SUPERVISION,
        detail=detail,
    )


@transaction.atomic
def complaint_take(*, actor: User, complaint_id: int) -> Complaint:
    """A supervisor of the district (or the city) takes the report: from now on they handle
    it and only they read the reporter. A city supervisor may take over an escalated report."""
    complaint = access_complaint_by_id(actor, complaint_id, for_update=True)
    if actor.role != Role.SUPERVISOR:
        raise ServiceError("complaint.not_supervisor", "仅监督检查人员可以承办举报")
    city = actor.scope is not None and actor.scope.level == DivisionLevel.CITY
    if complaint.status == ComplaintStatus.CLOSED:
        raise ServiceError("complaint.closed", "该举报已办结")
    if complaint.handler_id == actor.pk:
        raise ServiceError("complaint.taken", "您已承办该举报")
    if complaint.status == ComplaintStatus.HANDLING and not (complaint.escalated and city):
        raise ServiceError("complaint.taken", "该举报已由其他监督人员承办")
    previous = complaint.handler_id
    complaint.handler = actor
    complaint.taken_at = timezone.now()
    complaint.status = ComplaintStatus.HANDLING
    complaint.save(update_fields=["handler", "taken_at", "status"])
    _audit(actor, complaint, "take", previous_handler=previous)
    return complaint


@transaction.atomic
def complaint_link(
    *,
    actor: User,
    complaint_id: int,
    case_id: int | None = None,
    household_no: str = "",
    finding_id: int | None = None,
) -> Complaint:
    """Link the report to what it turned out to concern: a case, a household, a fund finding
    (each within the handler's own scope; one outside it is "not found")."""
    complaint = access_complaint_by_id(actor, complaint_id, for_update=True)
    require_complaint_handler(actor, complaint)
    if complaint.status == ComplaintStatus.CLOSED:
        raise ServiceError("complaint.closed", "该举报已办结,不能再关联")
    prefix = actor.scope_prefix
    changed: dict = {}
    if case_id:
        case_model = apps.get_model("cases", "Case")  # a sibling package: looked up, not imported
        case = case_model.objects.filter(pk=case_id, town__code__startswith=prefix).first()
        if case is None:
            raise ServiceError("complaint.case", "本辖区没有该案件编号", field="case_id")
        complaint.case = case
        changed["case"] = case.pk
    household_no = (household_no or "").strip()[:30]
    if household_no:
        household = Household.objects.filter(
            household_no=household_no, division__code__startswith=prefix
        ).first()
        if household is None:
            raise ServiceError("complaint.household", "本辖区没有该户号", field="household_no")
        complaint.household = household
        changed["household"] = household.pk
    if finding_id:
        try:
            finding = access_finding_by_id(actor, finding_id)
        except (AccessDenied, NotFound):
            raise ServiceError(
                "complaint.finding", "本辖区没有该资金核查问题编号", field="finding_id"
            ) from None
        complaint.finding = finding
        changed["finding"] = finding.pk
    if not changed:
        raise ServiceError("complaint.link", "请填写要关联的案件编号、户号或资金核查问题编号")
    complaint.save(update_fields=["case", "household", "finding"])
    _audit(actor, complaint, "link", **changed)
    return complaint


@transaction.atomic
def complaint_close(*, actor: User, complaint_id: int, outcome: str) -> Complaint:
    """The written outcome (the reporter reads it with the tracking code) closes the report."""
    complaint = access_complaint_by_id(actor, complaint_id, for_update=True)
    require_complaint_handler(actor, complaint)
    if complaint.status == ComplaintStatus.CLOSED:
        raise ServiceError("complaint.closed", "该举报已办结")
    outcome = _text(outcome, field="outcome", label="办理结果", limit=MAX_OUTCOME, minimum=1)
    complaint.outcome = outcome
    complaint.status = ComplaintStatus.CLOSED
    complaint.closed_at = timezone.now()
    complaint.closed_by = actor
    complaint.save(update_fields=["outcome", "status", "closed_at", "closed_by"])
    _audit(actor, complaint, "close", on_time=timezone.localdate() <= complaint.due_date)
    return complaint


def complaints_escalate_overdue(*, today: date | None = None) -> int:
    """Reports not closed by their deadline are escalated to the city (flagged; the city's
    queue lists them first, and a city supervisor may take them over)."""
    today = today or timezone.localdate()
    overdue = Q(escalated=False, due_date__lt=today) & ~Q(status=ComplaintStatus.CLOSED)
    with transaction.atomic():
        ids = list(Complaint.objects.filter(overdue).values_list("pk", flat=True))
        if not ids:
            return 0
        now = timezone.now()
        Complaint.objects.filter(overdue, pk__in=ids).update(escalated=True, escalated_at=now)
        audit_record(
            actor=None,
            action="supervision.complaint.escalate",
            object_type="complaint",
            object_id="*",
            purpose=Purpose.SUPERVISION,
            label="supervision:escalation",
            detail={"count": len(ids), "complaints": ids[:1000]},
        )
    return len(ids)
