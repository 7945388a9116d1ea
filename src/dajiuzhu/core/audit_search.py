"""Reads of the audit log for auditors and administrators: search by person, staff member,
action, purpose and time; each event with its position in the chain; the chain verification.

City-level readers see every event; a district auditor sees the events of staff within their
jurisdiction (the scope is in the query). A search by ID number is itself audited (purpose
监督检查) and the number never leaves the request body."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from dajiuzhu.core.access import require_role
from dajiuzhu.core.audit import ChainReport, audit_record, audit_verify
from dajiuzhu.core.models import AuditEvent, DivisionLevel, User
from dajiuzhu.core.roles import Purpose, Role
from dajiuzhu.core.services import ServiceError

READ_ROLES = frozenset({Role.AUDITOR, Role.ADMIN})
MAX_ROWS = 200

ACTION_LABELS = {
    "api_token.create": "生成接口令牌",
    "api_token.revoke": "吊销接口令牌",
    "category.add": "登记困难类别",
    "demo.phones": "演示数据:补充手机号码",
    "division.create": "新建区划",
    "exchange.agreement.create": "签订共享协议",
    "exchange.agreement.revoke": "撤回共享协议",
    "exchange.batch.duplicate": "重复报送",
    "exchange.batch.publish": "数据批次发布",
    "exchange.batch.queue": "数据批次排队",
    "exchange.batch.retract": "数据批次撤回",
    "exchange.quarantine.read": "查看隔离数据",
    "exchange.rows.read": "读取共享数据",
    "household.create": "新建家庭户",
    "household.search": "查询家庭户",
    "household.view": "查看一户一档",
    "membership.add": "登记家庭成员",
    "person.create": "登记人员",
    "person.lookup": "查询人员",
    "person.status": "变更人口状态",
    "person.view": "查看人员",
    "policy.candidate.follow_up": "政策找人:跟进",
    "policy.find_eligible": "政策找人:测算",
    "policy.parameter.add": "新增政策参数",
    "reference.load": "加载基础数据",
    "registry.deaths_sync": "同步死亡信息",
    "registry.hukou_sync": "同步户籍信息",
    "resident.login": "居民登录",
    "resident.register": "居民注册",
    "user.create": "新建工作人员账号",
    "user.update": "修改工作人员账号",
    "user.password_reset": "重置密码",
    "user.unlock": "解除账号锁定",
    "user.activate": "启用账号",
    "user.deactivate": "停用账号",
    "audit.search": "查询审计日志",
    "audit.verify": "校验审计链",
    "verification.authorisation.record": "登记核对授权书",
    "verification.check": "家庭经济状况核对",
    "verification.report.view": "查看核对报告",
    "warning.assign": "派发预警",
    "warning.close": "办结预警",
    "warning.escalate": "预警超期升级",
    "warning.export": "导出预警",
    "warning.list": "查看预警列表",
    "warning.outcome": "登记核查结果",
    "warning.outcome_change": "修改核查结果",
    "warning.scan": "预警扫描",
    "warning.tasks": "查看核查任务",
    "warning.view": "查看预警",
}
PURPOSE_LABELS = dict(Purpose.choices)


@dataclass
class Filters:
    staff: str = ""  # username or name
    action: str = ""
    purpose: str = ""
    start: date | None = None
    end: date | None = None
    person_id: int | None = None  # a registry person (found by ID number in the body)
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, data) -> Filters:
        f = cls(
            staff=(data.get("staff") or "")[:50].strip(),
            action=(data.get("action") or "")[:60].strip(),
            purpose=(data.get("purpose") or "")[:20].strip(),
        )
        for name in ("start", "end"):
            raw = (data.get(name) or "")[:10].strip()
            if raw:
                try:
                    setattr(f, name, date.fromisoformat(raw))
                except ValueError:
                    f.errors.append("日期格式应为YYYY-MM-DD")
        raw = (data.get("person") or "").strip()
        if raw.isdigit() and len(raw) < 12:
            f.person_id = int(raw)
        return f


def _readable(actor: User) -> QuerySet[AuditEvent]:
    require_role(actor, READ_ROLES)
    qs = AuditEvent.objects.all()
    if actor.scope is None or actor.scope.level != DivisionLevel.CITY:
        qs = qs.filter(actor__scope__code__startswith=actor.scope_prefix)
    return qs


def person_by_id_number(*, actor: User, id_number: str) -> int | None:
    """The registry person with this ID number (None if unknown); the search is audited."""
    from dajiuzhu.core.idnumber import InvalidIdNumber, parse_id_number
    from dajiuzhu.registry.models import Person

    require_role(actor, READ_ROLES)
    try:
        number = parse_id_number(id_number).number
    except InvalidIdNumber as exc:
        raise ServiceError(exc.code, exc.message, field="id_number") from None
    from dajiuzhu.core import crypto

    person = Person.objects.filter(id_index=crypto.id_index(number)).only("pk").first()
    audit_record(
        actor=actor,
        action="audit.search",
        object_type="person",
        object_id=person.pk if person else "?",
        purpose=Purpose.SUPERVISION,
        detail={"found": person is not None},
    )
    return person.pk if person else None


def events(*, actor: User, filters: Filters) -> QuerySet[AuditEvent]:
    if filters.errors:
        raise ServiceError("audit.filter", filters.errors[0])
    qs = _readable(actor)
    if filters.staff:
        qs = qs.filter(
            Q(actor__username__icontains=filters.staff)
            | Q(actor__display_name__icontains=filters.staff)
            | Q(actor_label__icontains=filters.staff)
        )
    if filters.action:
        qs = qs.filter(action__startswith=filters.action)
    if filters.purpose:
        qs = qs.filter(purpose=filters.purpose)
    tz = timezone.get_current_timezone()
    if filters.start:
        qs = qs.filter(at__gte=datetime.combine(filters.start, time.min, tz))
    if filters.end:
        qs = qs.filter(at__lt=datetime.combine(filters.end + timedelta(days=1), time.min, tz))
    if filters.person_id is not None:
        from dajiuzhu.registry.models import Membership

        households = [
            str(h)
            for h in Membership.objects.filter(person_id=filters.person_id).values_list(
                "household_id", flat=True
            )
        ]
        qs = qs.filter(
            Q(object_type="person", object_id=str(filters.person_id))
            | Q(object_type="household", object_id__in=households)
        )
    return qs.select_related("actor").order_by("-id")


@dataclass
class Row:
    event: AuditEvent
    position: int
    actor: str
    action_label: str
    purpose_label: str
    detail: str


def _value(v) -> str:
    if v is None:
        return "无"
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, list) and len(v) > 8:
        return f"{len(v)}项"
    return str(v)


def _actor(e: AuditEvent) -> str:
    """Who acted, as staff read it: name (username, role); the system by its label."""
    if e.actor is None:
        return "系统" if e.actor_label in ("", "system") else e.actor_label.split(":")[0]
    role = Role(e.actor.role).label if e.actor.role in Role.values else e.actor.role
    name = e.actor.display_name or e.actor.username
    return f"{name}({e.actor.username},{role})"


def _detail(detail: dict) -> str:
    parts = []
    for k, v in (detail or {}).items():
        parts.append(f"{k}={_value(v)}")
    text = ";".join(parts)
    return text if len(text) <= 200 else text[:200] + "…"


def rows(page) -> list[Row]:
    """The page's events with their positions in the chain (1 = the first event)."""
    out = []
    for e in page:
        out.append(
            Row(
                event=e,
                position=AuditEvent.objects.filter(id__lte=e.id).count(),
                actor=_actor(e),
                action_label=ACTION_LABELS.get(e.action, e.action),
                purpose_label=PURPOSE_LABELS.get(e.purpose, e.purpose),
                detail=_detail(e.detail),
            )
        )
    return out


def events_about_user(*, actor: User, user_id: int, limit: int = 30) -> list[Row]:
    qs = _readable(actor).filter(object_type="user", object_id=str(user_id)).order_by("-id")
    return rows(qs.select_related("actor")[:limit])


def verify(*, actor: User) -> ChainReport:
    """The whole chain recomputed with the key, against the head and checkpoints; audited."""
    require_role(actor, READ_ROLES)
    report = audit_verify()
    audit_record(
        actor=actor,
        action="audit.verify",
        object_type="audit",
        object_id="*",
        purpose=Purpose.SUPERVISION,
        detail={"ok": report.ok, "checked": report.checked},
    )
    return report
