"""Writes on findings: the paying district's rectification (confirmed — the money recovered and
the payment stopped; explained — with the evidence; wrong data — sent back to the department
that owns the dataset) and the escalation of overdue findings. Each write is atomic, fetches the
finding through ``access_finding_by_id`` and writes its audit event in the same transaction.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Purpose
from dajiuzhu.core.services import ServiceError
from dajiuzhu.core.text import has_control_chars
from dajiuzhu.exchange.contracts import get_contract
from dajiuzhu.supervision.access import access_finding_by_id, require_rectifier
from dajiuzhu.supervision.checks import CHECKS
from dajiuzhu.supervision.models import RESOLUTIONS, Finding, Status

MAX_NOTES = 2000


def _money(raw: object) -> Decimal:
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ServiceError(
            "finding.recovered_amount",
            "追回金额应为金额(元,最多两位小数)",
            field="recovered_amount",
        ) from None
    exponent = value.as_tuple().exponent  # an int for a finite value
    if not value.is_finite() or value < 0 or (isinstance(exponent, int) and exponent < -2):
        raise ServiceError(
            "finding.recovered_amount",
            "追回金额应为金额(元,最多两位小数)",
            field="recovered_amount",
        )
    return value


@transaction.atomic
def finding_rectify(
    *,
    actor: User,
    finding_id: int,
    resolution: str,
    notes: str = "",
    recovered_amount: object = None,
    payment_stopped: bool = False,
    dataset: str = "",
) -> Finding:
    """Record the district's rectification of an open finding."""
    finding = access_finding_by_id(actor, finding_id, for_update=True)
    require_rectifier(actor)
    if finding.status != Status.OPEN:
        raise ServiceError("finding.not_open", "该问题已整改或已撤销,不能再次登记整改")
    if resolution not in RESOLUTIONS:
        raise ServiceError(
            "finding.resolution", "请选择整改结果:确认违规、说明情况或数据有误", field="resolution"
        )
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES:
        raise ServiceError("finding.notes", f"整改情况不能超过{MAX_NOTES}字", field="notes")
    if has_control_chars(notes):
        raise ServiceError("finding.notes", "整改情况含有不可见的控制字符", field="notes")
    update: dict = {"notes": notes}
    if resolution == Status.CONFIRMED:
        if recovered_amount in (None, ""):
            raise ServiceError(
                "finding.recovered_amount", "确认违规须填写追回金额", field="recovered_amount"
            )
        amount = _money(recovered_amount)
        if amount > finding.amount:
            raise ServiceError(
                "finding.recovered_amount",
                f"追回金额不能超过问题金额{finding.amount:.2f}元",
                field="recovered_amount",
            )
        if not payment_stopped:
            raise ServiceError(
                "finding.payment_stopped", "确认违规须同时停发该笔救助", field="payment_stopped"
            )
        update.update(recovered_amount=amount, payment_stopped=True)
    elif resolution == Status.EXPLAINED:
        if not notes:
            raise ServiceError("finding.notes", "说明情况须写明理由和证据", field="notes")
    else:  # wrong data: back to the department that owns the dataset
        spec = CHECKS[finding.check_code]
        if dataset not in spec.datasets:
            titles = "、".join(get_contract(d).title for d in spec.datasets)
            raise ServiceError(
                "finding.dataset", f"请选择有误的数据集(可选:{titles})", field="dataset"
            )
        update.update(returned_to=get_contract(dataset).owner, returned_dataset=dataset)
    now = timezone.now()
    for name, value in update.items():
        setattr(finding, name, value)
    finding.status = resolution
    finding.handled_by = actor
    finding.handled_at = now
    finding.save()
    audit_record(
        actor=actor,
        action="supervision.finding.rectify",
        object_type="finding",
        object_id=finding.pk,
        purpose=Purpose.SUPERVISION,
        detail={
            "check": finding.check_code,
            "month": finding.month,
            "resolution": resolution,
            "recovered_amount": None
            if finding.recovered_amount is None
            else f"{finding.recovered_amount:.2f}",
            "returned_to": finding.returned_to,
        },
    )
    return finding


def findings_escalate_overdue(*, today: date | None = None) -> int:
    """Findings still open after their deadline are escalated to the city (flagged; the
    queues list them first). Returns how many were escalated now."""
    today = today or timezone.localdate()
    overdue = Q(status=Status.OPEN, escalated=False, due_date__lt=today)
    with transaction.atomic():
        ids = list(Finding.objects.filter(overdue).values_list("pk", flat=True))
        if not ids:
            return 0
        now = timezone.now()
        for start in range(0, len(ids), 500):
            Finding.objects.filter(overdue, pk__in=ids[start : start + 500]).update(
                escalated=True, escalated_at=now, updated_at=now
            )
        audit_record(
            actor=None,
            action="supervision.finding.escalate",
            object_type="finding",
            object_id="*",
            purpose=Purpose.SUPERVISION,
            label="supervision:escalation",
            detail={"count": len(ids), "findings": ids[:1000]},
        )
    return len(ids)
