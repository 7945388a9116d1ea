"""Investigation of a warning: assignment to a grid or community worker of the town, the
visit's outcome, closing, and the escalation of overdue warnings to the district. Each write
fetches the warning with the acting user's scope and locks it (``access_warning_by_id``), is
atomic and writes its audit event in the same transaction.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from dajiuzhu.core.access import AccessDenied, require_role
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.errors import ServiceError
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Purpose
from dajiuzhu.exchange.contracts import programme_codes
from dajiuzhu.warnings.access import ASSIGNER_ROLES, access_warning_by_id, can_be_assignee
from dajiuzhu.warnings.models import OPEN_STATUSES, Outcome, Status, Warning

MAX_NOTES = 2000
AUDIT_ID_LIMIT = 1000


@transaction.atomic
def warning_assign(*, actor: User, warning_id: int, assignee_id: int) -> Warning:
    require_role(actor, ASSIGNER_ROLES)
    w = access_warning_by_id(actor, warning_id, for_update=True)
    if w.status not in OPEN_STATUSES:
        raise ServiceError("warning.not_assignable", "该预警已核查、办结或撤销,不能再派发")
    assignee = User.objects.filter(pk=assignee_id).select_related("scope").first()
    if assignee is None or not can_be_assignee(assignee, w):
        raise ServiceError(
            "warning.assignee",
            "只能派发给本镇(街道)的社区工作人员或网格员",
            field="assignee",
        )
    previous = w.assignee_id
    w.assignee = assignee
    w.assigned_by = actor
    w.assigned_at = timezone.now()
    w.status = Status.ASSIGNED
    w.save(update_fields=["assignee", "assigned_by", "assigned_at", "status", "updated_at"])
    audit_record(
        actor=actor,
        action="warning.assign",
        object_type="warning",
        object_id=w.pk,
        purpose=Purpose.WARNING,
        detail={"assignee": assignee.pk, "previous": previous},
    )
    return w


@transaction.atomic
def warning_record_outcome(
    *,
    actor: User,
    warning_id: int,
    outcome: str,
    programme_code: str = "",
    notes: str = "",
) -> Warning:
    """The visit's result, by the assigned worker (or by town staff on their behalf)."""
    w = access_warning_by_id(actor, warning_id, for_update=True)
    if actor.pk != w.assignee_id and actor.role not in ASSIGNER_ROLES:
        raise AccessDenied("只有被派发的核查人员或镇(街道)工作人员可以登记核查结果")
    if w.status not in (Status.ASSIGNED, Status.INVESTIGATED):
        message = "请先派发给核查人员" if w.status == Status.PUSHED else "该预警已办结或撤销"
        raise ServiceError("warning.not_open", message)
    if outcome not in Outcome.values:
        raise ServiceError("warning.outcome", "请选择核查结果", field="outcome")
    programme_code = (programme_code or "").strip()
    if outcome == Outcome.HELPED_TO_APPLY:
        if programme_code not in programme_codes():
            raise ServiceError(
                "warning.programme", "请选择帮助申请的救助项目", field="programme_code"
            )
    else:
        programme_code = ""
    notes = (notes or "").strip()
    if not notes:
        raise ServiceError("warning.notes", "请填写核查情况说明", field="notes")
    if len(notes) > MAX_NOTES:
        raise ServiceError("warning.notes", f"核查情况说明不能超过{MAX_NOTES}字", field="notes")
    first = w.status == Status.ASSIGNED
    w.outcome = outcome
    w.programme_code = programme_code
    w.notes = notes
    w.status = Status.INVESTIGATED
    w.investigated_by = actor
    w.investigated_at = timezone.now()
    w.save(
        update_fields=[
            "outcome",
            "programme_code",
            "notes",
            "status",
            "investigated_by",
            "investigated_at",
            "updated_at",
        ]
    )
    audit_record(
        actor=actor,
        action="warning.outcome" if first else "warning.outcome_change",
        object_type="warning",
        object_id=w.pk,
        purpose=Purpose.WARNING,
        detail={"outcome": outcome, "programme": programme_code},
    )
    return w


@transaction.atomic
def warning_close(*, actor: User, warning_id: int) -> Warning:
    require_role(actor, ASSIGNER_ROLES)
    w = access_warning_by_id(actor, warning_id, for_update=True)
    if w.status != Status.INVESTIGATED:
        raise ServiceError("warning.not_investigated", "只有已核查的预警可以办结")
    w.status = Status.CLOSED
    w.closed_by = actor
    w.closed_at = timezone.now()
    w.save(update_fields=["status", "closed_by", "closed_at", "updated_at"])
    audit_record(
        actor=actor,
        action="warning.close",
        object_type="warning",
        object_id=w.pk,
        purpose=Purpose.WARNING,
        detail={"outcome": w.outcome},
    )
    return w


def warnings_escalate_overdue(*, today: date | None = None) -> int:
    """Warnings still open after their deadline are escalated to the district (flagged; the
    district's queue lists them first). Returns how many were escalated now."""
    today = today or timezone.localdate()
    overdue = Q(status__in=OPEN_STATUSES, escalated=False, due_date__lt=today)
    with transaction.atomic():
        ids = list(Warning.objects.filter(overdue).values_list("pk", flat=True))
        if not ids:
            return 0
        now = timezone.now()
        for start in range(0, len(ids), 500):
            Warning.objects.filter(overdue, pk__in=ids[start : start + 500]).update(
                escalated=True, escalated_at=now, updated_at=now
            )
        audit_record(
            actor=None,
            action="warning.escalate",
            object_type="warning",
            object_id="*",
            purpose=Purpose.WARNING,
            label="warnings:escalation",
            detail={"count": len(ids), "warnings": ids[:AUDIT_ID_LIMIT]},
        )
    return len(ids)


def warning_mark_helped(
    *, actor: User | None, warning: Warning, programme_code: str, application_no: str
) -> Warning:
    """The outcome "helped to apply", set by the submission of an application started from
    the warning (「协助申请」, issue 12). ``warning`` comes locked from the caller's transaction
    (``access_warning_by_id(..., for_update=True)``); a warning already investigated keeps its
    status and gets the outcome, a closed or withdrawn one is left as it is."""
    if warning.status not in (*OPEN_STATUSES, Status.INVESTIGATED):
        return warning
    first = warning.status != Status.INVESTIGATED
    warning.outcome = Outcome.HELPED_TO_APPLY
    warning.programme_code = programme_code
    note = f"已协助申请救助,申请编号{application_no}"
    warning.notes = (f"{warning.notes}\n{note}" if warning.notes else note)[:MAX_NOTES]
    warning.status = Status.INVESTIGATED
    warning.investigated_by = actor
    warning.investigated_at = timezone.now()
    warning.save(
        update_fields=[
            "outcome",
            "programme_code",
            "notes",
            "status",
            "investigated_by",
            "investigated_at",
            "updated_at",
        ]
    )
    audit_record(
        actor=actor,
        action="warning.outcome" if first else "warning.outcome_change",
        object_type="warning",
        object_id=warning.pk,
        purpose=Purpose.WARNING,
        detail={
            "outcome": Outcome.HELPED_TO_APPLY,
            "programme": programme_code,
            "application": application_no,
        },
    )
    return warning
