"""Writes of the care centre, one function per action, each atomic and audited.

Devices (register, import, token), an alarm's handling (accept → outcome → close, with the
visit dispatched to the grid worker), the automatic escalation, visits, care plans (versioned),
away mode set by a caseworker, and the administrators' export.
"""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from dajiuzhu.care.access import (
    ANSWER_ROLES,
    DEVICE_ROLES,
    PLAN_WRITE_ROLES,
    VISIT_ROLES,
    access_alarm_by_id,
    access_visit_by_id,
    escalation_recipients,
)
from dajiuzhu.care.models import (
    Alarm,
    AlarmStatus,
    AwaySpell,
    ClosureCode,
    Device,
    DeviceKind,
    DeviceStatus,
    Escalation,
    Outcome,
    Plan,
    Rule,
    Visit,
    VisitStatus,
)
from dajiuzhu.care.parameters import care_parameters
from dajiuzhu.care.rules import LOCAL
from dajiuzhu.core import crypto
from dajiuzhu.core.access import AccessDenied, NotFound, require_role, scope_q
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.idnumber import InvalidIdNumber, parse_id_number
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Purpose, Role
from dajiuzhu.core.services import ServiceError
from dajiuzhu.core.text import csv_writer, guard_row
from dajiuzhu.registry.models import Person

DEVICE_HEADER = ("device_id", "kind", "id_number", "installed_at", "status")
EXPORT_HEADER = ("kind", "device_id", "id_number", "raised_at", "event_id")
MAX_NOTE = 2000


def person_division(person: Person) -> str:
    return person.residence_division_id or person.hukou_division_id


def _person_by_id_number(raw: str, actor: User | None) -> Person:
    """The person with the ID number — for a user, only within their jurisdiction (a person
    outside it gets the same answer as an unknown one: nothing to learn by probing)."""
    try:
        parsed = parse_id_number(raw)
    except InvalidIdNumber as exc:
        raise ServiceError(exc.code, exc.message, field="id_number") from None
    people = Person.objects.filter(id_index=crypto.id_index(parsed.number))
    if actor is not None:
        require_role(actor, DEVICE_ROLES)
        people = people.filter(
            scope_q(actor, "hukou_division__code") | scope_q(actor, "residence_division__code")
        )
    person = people.first()
    if person is None:
        raise ServiceError(
            "care.device.person",
            "身份证号码对应的人员不在人口库中或不在您的辖区",
            field="id_number",
        )
    return person


# --------------------------------------------------------------------------- devices


@transaction.atomic
def device_register(
    *,
    actor: User | None,
    device_id: str,
    kind: str,
    id_number: str,
    installed_at: date,
    status: str = DeviceStatus.ACTIVE,
) -> Device:
    """Register a device (or update the registered one with the same id)."""
    from dajiuzhu.care.intake import TOPIC

    device_id = (device_id or "").strip()
    if not TOPIC.match(f"dajiuzhu/v1/devices/{device_id}/events"):
        raise ServiceError(
            "care.device.id", "设备编号应为1至64位字母、数字或 . _ : - ", field="device_id"
        )
    if kind not in DeviceKind.values:
        raise ServiceError(
            "care.device.kind",
            f"未知设备类型(应为 {', '.join(DeviceKind.values)} 之一)",
            field="kind",
        )
    if status not in DeviceStatus.values:
        raise ServiceError("care.device.status", "状态应为 active 或 removed", field="status")
    if installed_at > timezone.localdate():
        raise ServiceError("care.device.installed", "安装日期不能晚于今天", field="installed_at")
    person = _person_by_id_number(id_number, actor)
    division = person_division(person)
    device, created = Device.objects.select_for_update().get_or_create(
        device_id=device_id,
        defaults={
            "kind": kind,
            "person": person,
            "division_code": division,
            "installed_at": installed_at,
            "status": status,
        },
    )
    if not created:
        if actor is not None and not device.division_code.startswith(actor.scope_prefix):
            raise ServiceError("care.device.taken", "该设备编号已由其他辖区登记", field="device_id")
        device.kind, device.person, device.division_code = kind, person, division
        device.installed_at, device.status = installed_at, status
        device.save(update_fields=["kind", "person", "division_code", "installed_at", "status"])
    audit_record(
        actor=actor,
        action="care.device.register" if created else "care.device.update",
        object_type="care_device",
        object_id=device.pk,
        purpose=Purpose.CARE,
        label=None if actor else "cli",
        detail={"device": device_id, "kind": kind, "status": status, "person": person.pk},
    )
    return device


@dataclass
class ImportReport:
    loaded: int = 0
    errors: list[dict] = field(default_factory=list)


def devices_import(*, actor: User | None, text: str) -> ImportReport:
    """Load a device CSV (header ``device_id,kind,id_number,installed_at,status``): each row
    on its own (a bad row is reported with its line and reason; the good rows load)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != DEVICE_HEADER:
        raise ServiceError(
            "care.import.header", f"文件表头应为 {','.join(DEVICE_HEADER)}", field="file"
        )
    report = ImportReport()
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(DEVICE_HEADER):
            report.errors.append(
                {"line": line, "code": "care.import.columns", "message": "列数不符"}
            )
            continue
        device_id, kind, id_number, installed, status = (c.strip() for c in row)
        try:
            installed_at = date.fromisoformat(installed)
        except ValueError:
            report.errors.append(
                {"line": line, "code": "care.import.date", "message": "安装日期应为 YYYY-MM-DD"}
            )
            continue
        try:
            device_register(
                actor=actor,
                device_id=device_id,
                kind=kind,
                id_number=id_number,
                installed_at=installed_at,
                status=status or DeviceStatus.ACTIVE,
            )
        except ServiceError as exc:
            report.errors.append({"line": line, "code": exc.code, "message": exc.message})
        except (NotFound, AccessDenied) as exc:
            report.errors.append({"line": line, "code": exc.code, "message": exc.message})
        else:
            report.loaded += 1
    return report


@transaction.atomic
def device_token_issue(*, actor: User | None, device_id: str) -> str:
    """A new HTTPS token for the device (shown once; the previous one stops working)."""
    device = Device.objects.select_for_update().filter(device_id=device_id).first()
    if device is None or (
        actor is not None and not device.division_code.startswith(actor.scope_prefix)
    ):
        raise NotFound
    if actor is not None:
        require_role(actor, DEVICE_ROLES)
    secret = secrets.token_urlsafe(32)
    device.token_hash = crypto.token_hash(secret)
    device.save(update_fields=["token_hash"])
    audit_record(
        actor=actor,
        action="care.device.token",
        object_type="care_device",
        object_id=device.pk,
        purpose=Purpose.CARE,
        label=None if actor else "cli",
        detail={"device": device_id},
    )
    return f"djd_{secret}"


def device_by_token(raw: str) -> Device | None:
    if not raw or not raw.startswith("djd_"):
        return None
    return Device.objects.filter(token_hash=crypto.token_hash(raw[4:])).first()


# --------------------------------------------------------------------------- alarms


@transaction.atomic
def alarm_accept(*, actor: User, alarm_id: int) -> Alarm:
    """Take the alarm. Two operators cannot both take it: the conditional update decides,
    and the second one gets a clear message naming who has it."""
    require_role(actor, ANSWER_ROLES)
    alarm = access_alarm_by_id(actor, alarm_id)
    now = timezone.now()
    taken = Alarm.objects.filter(pk=alarm.pk, accepted_by__isnull=True).update(
        accepted_by=actor, accepted_at=now, status=AlarmStatus.ACCEPTED
    )
    alarm.refresh_from_db()
    if not taken:
        if alarm.accepted_by_id == actor.pk:
            return alarm
        taken_by = alarm.accepted_by
        name = (taken_by.get_full_name() or taken_by.username) if taken_by else "其他接警员"
        raise ServiceError("care.alarm.taken", f"该报警已由{name}接警,无需重复接警")
    audit_record(
        actor=actor,
        action="care.alarm.accept",
        object_type="care_alarm",
        object_id=alarm.pk,
        purpose=Purpose.CARE,
        detail={"rule": alarm.rule},
    )
    return alarm


def _own_accepted(actor: User, alarm_id: int) -> Alarm:
    require_role(actor, ANSWER_ROLES)
    alarm = access_alarm_by_id(actor, alarm_id, for_update=True)
    if alarm.status == AlarmStatus.CLOSED:
        raise ServiceError("care.alarm.closed", "该报警已关闭")
    if alarm.accepted_by_id is None:
        raise ServiceError("care.alarm.not_accepted", "请先接警")
    if alarm.accepted_by_id != actor.pk and actor.role != Role.SUPERVISOR:
        raise ServiceError("care.alarm.not_yours", "该报警由其他坐席处置中")
    return alarm


def _grid_worker_for(alarm: Alarm) -> User | None:
    plan = Plan.objects.filter(person_id=alarm.person_id).order_by("-version").first()
    if plan is not None and plan.grid_worker is not None and plan.grid_worker.is_active:
        return plan.grid_worker
    candidates = User.objects.filter(role=Role.GRID_WORKER, is_active=True).exclude(
        scope__isnull=True
    )
    best = None
    for user in candidates:
        prefix = user.scope_prefix
        closer = best is None or len(prefix) > len(best.scope_prefix)
        if prefix and alarm.division_code.startswith(prefix) and closer:
            best = user
    return best


@transaction.atomic
def alarm_record_outcome(*, actor: User, alarm_id: int, outcome: str, note: str = "") -> Alarm:
    """The call-back's outcome. ``visit`` dispatches a visit to the person's grid worker."""
    alarm = _own_accepted(actor, alarm_id)
    if outcome not in Outcome.values:
        raise ServiceError("care.alarm.outcome", "请选择处置结果", field="outcome")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ServiceError("care.alarm.note", f"回访记录不能超过{MAX_NOTE}字", field="note")
    if outcome == Outcome.VISIT:
        worker = _grid_worker_for(alarm)
        if worker is None:
            raise ServiceError("care.visit.no_worker", "该对象所在网格没有可派发的网格员")
        now = timezone.now()
        visit = Visit.objects.create(
            person_id=alarm.person_id,
            division_code=alarm.division_code,
            alarm=alarm,
            assignee=worker,
            due_date=timezone.localdate(now),
            dispatched_at=now,
        )
        audit_record(
            actor=actor,
            action="care.visit.dispatch",
            object_type="care_visit",
            object_id=visit.pk,
            purpose=Purpose.CARE,
            detail={"alarm": alarm.pk, "assignee": worker.username},
        )
    alarm.outcome, alarm.outcome_at = outcome, timezone.now()
    if note:
        alarm.callback_note = note
    alarm.save(update_fields=["outcome", "outcome_at", "callback_note"])
    audit_record(
        actor=actor,
        action="care.alarm.outcome",
        object_type="care_alarm",
        object_id=alarm.pk,
        purpose=Purpose.CARE,
        detail={"outcome": outcome},
    )
    return alarm


@transaction.atomic
def alarm_close(*, actor: User, alarm_id: int, closure_code: str) -> Alarm:
    alarm = _own_accepted(actor, alarm_id)
    if closure_code not in ClosureCode.values:
        raise ServiceError("care.alarm.closure", "请选择关闭代码", field="closure_code")
    if not alarm.outcome and not alarm.technical:
        raise ServiceError("care.alarm.no_outcome", "请先记录处置结果,再关闭报警")
    alarm.status, alarm.closure_code = AlarmStatus.CLOSED, closure_code
    alarm.closed_by, alarm.closed_at = actor, timezone.now()
    alarm.save(update_fields=["status", "closure_code", "closed_by", "closed_at"])
    audit_record(
        actor=actor,
        action="care.alarm.close",
        object_type="care_alarm",
        object_id=alarm.pk,
        purpose=Purpose.CARE,
        detail={"closure_code": closure_code},
    )
    return alarm


def alarms_escalate_due(*, now: datetime | None = None) -> int:
    """Escalate every people's alarm not accepted within ``care.escalation_seconds`` of its
    appearing on the console: to the duty supervisor(s) and the second operator group of its
    jurisdiction (``access.escalation_recipients``), recorded and audited. Their consoles show
    it from the moment it is due (``selectors.escalated_to_me``), before this record exists."""
    now = now or timezone.now()
    seconds = care_parameters(timezone.localdate(now)).escalation_seconds
    due = Alarm.objects.filter(
        technical=False,
        accepted_by__isnull=True,
        escalated=False,
        created_at__lte=now - timedelta(seconds=seconds),
    ).values_list("pk", "division_code")
    count = 0
    for pk, division_code in list(due):
        with transaction.atomic():
            if Alarm.objects.filter(pk=pk, accepted_by__isnull=True, escalated=False).update(
                escalated=True, escalated_at=now
            ):
                count += 1
                recipients = escalation_recipients(division_code)
                Escalation.objects.bulk_create(
                    [
                        Escalation(alarm_id=pk, user=user, reason=reason, created_at=now)
                        for user, reason in recipients
                    ],
                    ignore_conflicts=True,
                )
                audit_record(
                    actor=None,
                    action="care.alarm.escalate",
                    object_type="care_alarm",
                    object_id=pk,
                    purpose=Purpose.CARE,
                    label="care",
                    detail={"to": [u.username for u, _ in recipients]},
                )
    return count


# --------------------------------------------------------------------------- visits


@transaction.atomic
def visit_record_arrival(*, actor: User, visit_id: int, findings: str) -> Visit:
    require_role(actor, VISIT_ROLES)
    visit = access_visit_by_id(actor, visit_id, for_update=True)
    if visit.status == VisitStatus.DONE:
        raise ServiceError("care.visit.done", "该走访已记录")
    findings = (findings or "").strip()
    if not findings:
        raise ServiceError("care.visit.findings", "请填写现场情况", field="findings")
    if len(findings) > MAX_NOTE:
        raise ServiceError("care.visit.findings", f"现场情况不能超过{MAX_NOTE}字", field="findings")
    visit.status, visit.arrived_at, visit.findings = VisitStatus.DONE, timezone.now(), findings
    visit.save(update_fields=["status", "arrived_at", "findings"])
    if visit.alarm_id is None:  # a planned visit: the next one on the latest plan
        plan = Plan.objects.filter(person_id=visit.person_id).order_by("-version").first()
        if plan is not None:
            _schedule_plan_visit(plan, after=timezone.localdate())
    audit_record(
        actor=actor,
        action="care.visit.arrive",
        object_type="care_visit",
        object_id=visit.pk,
        purpose=Purpose.CARE,
        detail={"alarm": visit.alarm_id},
    )
    return visit


# --------------------------------------------------------------------------- plans


@transaction.atomic
def plan_save(
    *,
    actor: User | None,
    person: Person,
    services: list[str],
    visit_schedule: str,
    review_date: date,
    visit_every_days: int | None = None,
    grid_worker: User | None = None,
    contacts: list[dict] | None = None,
    inactivity_hours: int | None = None,
    note: str = "",
) -> Plan:
    """A new version of the person's care plan (一策); the earlier versions stay."""
    division = person_division(person)
    if actor is not None:
        require_role(actor, PLAN_WRITE_ROLES)
        if (
            not Person.objects.filter(pk=person.pk)
            .filter(
                scope_q(actor, "hukou_division__code") | scope_q(actor, "residence_division__code")
            )
            .exists()
        ):
            raise NotFound
    if inactivity_hours is not None and not (4 <= inactivity_hours <= 48):
        raise ServiceError(
            "care.plan.hours", "个人无活动报警小时数应在4至48之间", field="inactivity_hours"
        )
    if grid_worker is not None and (
        grid_worker.role != Role.GRID_WORKER or not division.startswith(grid_worker.scope_prefix)
    ):
        raise ServiceError("care.plan.worker", "责任网格员应为该对象所在网格的网格员")
    last = Plan.objects.select_for_update().filter(person=person).order_by("-version").first()
    plan = Plan.objects.create(
        person=person,
        version=(last.version + 1) if last else 1,
        division_code=division,
        services=[s for s in services if s],
        visit_schedule=visit_schedule[:200],
        visit_every_days=visit_every_days,
        grid_worker=grid_worker,
        contacts_enc=crypto.encrypt(
            json.dumps(contacts or [], ensure_ascii=False), field="care.contacts"
        ),
        review_date=review_date,
        inactivity_hours=inactivity_hours,
        note=note[:MAX_NOTE],
        created_by=actor,
    )
    _schedule_plan_visit(plan)
    audit_record(
        actor=actor,
        action="care.plan.save",
        object_type="care_plan",
        object_id=plan.pk,
        purpose=Purpose.CARE,
        label=None if actor else "cli",
        detail={"person": person.pk, "version": plan.version},
    )
    return plan


def _schedule_plan_visit(plan: Plan, *, after: date | None = None) -> Visit | None:
    """The plan's next visit on its grid worker's phone (``visit_every_days`` after ``after``,
    default today); an open plan visit of the person is moved to the new plan instead."""
    worker = plan.grid_worker
    if not plan.visit_every_days or worker is None:
        return None
    due = (after or timezone.localdate()) + timedelta(days=plan.visit_every_days)
    open_visit = (
        Visit.objects.select_for_update()
        .filter(person_id=plan.person_id, alarm__isnull=True, status=VisitStatus.OPEN)
        .first()
    )
    if open_visit is not None:
        open_visit.plan, open_visit.assignee = plan, worker
        open_visit.due_date = min(open_visit.due_date, due)
        open_visit.save(update_fields=["plan", "assignee", "due_date"])
        return open_visit
    return Visit.objects.create(
        person_id=plan.person_id,
        division_code=plan.division_code,
        plan=plan,
        assignee=worker,
        due_date=due,
        dispatched_at=timezone.now(),
    )


def plan_contacts(plan: Plan) -> list[dict]:
    if not plan.contacts_enc:
        return []
    return json.loads(crypto.decrypt(plan.contacts_enc, field="care.contacts"))


# --------------------------------------------------------------------------- away mode


@transaction.atomic
def away_set(*, actor: User, person: Person, away: bool) -> None:
    """A caseworker sets or clears a person's away flag (as an ``away_on``/``away_off``
    message would)."""
    require_role(actor, PLAN_WRITE_ROLES)
    now = timezone.now()
    spell = AwaySpell.objects.select_for_update().filter(person=person, end__isnull=True).first()
    if away and spell is None:
        AwaySpell.objects.create(person=person, start=now, set_by=actor)
    elif not away and spell is not None:
        spell.end = now
        spell.save(update_fields=["end"])
    audit_record(
        actor=actor,
        action="care.away.set" if away else "care.away.clear",
        object_type="person",
        object_id=person.pk,
        purpose=Purpose.CARE,
    )


# --------------------------------------------------------------------------- export


def alarms_export(*, actor: User | None, out: Path) -> int:
    """Every alarm as CSV (CARE.md: ``kind,device_id,id_number,raised_at,event_id``) for
    administrators, the person re-identified. Audited. Returns the number of rows."""
    if actor is not None:
        require_role(actor, {Role.ADMIN})
    rows = list(
        Alarm.objects.values_list(
            "rule", "device__device_id", "person__id_number_enc", "raised_at", "event_ref"
        )
    )
    lines = []
    for rule, device_id, blob, raised_at, event_ref in rows:
        person_alarm = rule in (Rule.INACTIVITY, Rule.NO_MORNING_ACTIVITY)
        lines.append(
            (
                rule,
                "" if person_alarm else (device_id or ""),
                crypto.decrypt(blob, field="person.id_number"),
                raised_at.astimezone(LOCAL).isoformat(timespec="seconds"),
                event_ref if rule not in (Rule.OFFLINE,) and not person_alarm else "",
            )
        )
    lines.sort(key=lambda r: (r[3], r[0], r[1], r[2]))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv_writer(fh)
        writer.writerow(EXPORT_HEADER)
        writer.writerows(guard_row(line) for line in lines)
    os.chmod(out, 0o600)
    audit_record(
        actor=actor,
        action="care.alarm.export",
        object_type="care_alarm",
        object_id="all",
        purpose=Purpose.CARE,
        label=None if actor else "cli",
        detail={"rows": len(lines), "file": out.name},
    )
    return len(lines)
