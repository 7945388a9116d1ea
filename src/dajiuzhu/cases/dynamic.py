"""动态管理 of approved cases: a later change of the monthly amount (调整, 渐退) and stopping
(停发), each a write of the cases domain, atomic and audited, with the resident told by SMS.

The amount paid for a month (``amount_for_month``) is the latest change whose month is not
after it, or the decided amount; a stopped case is paid up to and including ``end_month``.
The payments roster and periodic review read and call these; nothing else writes them."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from dajiuzhu.cases.access import DECIDE_ROLES, access_case_by_id, require_handler
from dajiuzhu.cases.models import AmountChange, AmountChangeKind, Case, CaseStatus
from dajiuzhu.core import crypto, sms
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.errors import ServiceError
from dajiuzhu.core.models import User
from dajiuzhu.core.months import add_months, month_of, parse_month
from dajiuzhu.core.roles import Purpose
from dajiuzhu.policy import catalogue

MAX_REASON = 500


def amount_in_month(
    *,
    month: str,
    status: str,
    amount: Decimal | None,
    start_month: str,
    end_month: str,
    changes: list[tuple[str, Decimal]] = (),  # type: ignore[assignment]
) -> Decimal | None:
    """The monthly amount for ``month`` of a case with these fields and (from_month, amount)
    changes in month order: None outside its paid months. (A pure function: the roster of
    60,000 cases applies it to plain rows.)"""
    if not start_month or month < start_month:
        return None
    if end_month and month > end_month:
        return None
    if status not in (CaseStatus.APPROVED, CaseStatus.STOPPED):
        return None
    for from_month, changed in changes:
        if from_month <= month:
            amount = changed
    return amount


def amount_for_month(case: Case, month: str) -> Decimal | None:
    """The case's monthly amount for ``month``: None outside its paid months."""
    return amount_in_month(
        month=month,
        status=case.status,
        amount=case.amount,
        start_month=case.start_month,
        end_month=case.end_month,
        changes=[(c.from_month, c.amount) for c in case.amount_changes.order_by("from_month")],
    )


def _reason(text: str, label: str) -> str:
    value = (text or "").strip()
    if not value:
        raise ServiceError("case.reason", f"请填写{label}", field="reason")
    return value[:MAX_REASON]


def _money(raw) -> Decimal:
    try:
        value = Decimal(str(raw)).quantize(Decimal("0.01"))
    except ArithmeticError:
        raise ServiceError("case.amount", "金额应为数字(元)", field="amount") from None
    if value < 0 or value > Decimal("1000000"):
        raise ServiceError("case.amount", "金额应在0到100万元之间", field="amount")
    return value


def _approved(actor: User, case_id: int) -> Case:
    case = access_case_by_id(actor, case_id, for_update=True)
    require_handler(actor, case, DECIDE_ROLES)
    if case.status != CaseStatus.APPROVED:
        raise ServiceError(
            "case.not_running", f"该案件当前状态为“{case.get_status_display()}”,不能调整或停发"
        )
    if catalogue.programme(case.programme).payment != "monthly":
        raise ServiceError("case.not_monthly", "该项救助不按月发放,不能调整月金额或停发")
    return case


def _audit(actor: User | None, action: str, case: Case, detail: dict) -> None:
    audit_record(
        actor=actor,
        action=action,
        purpose=Purpose.CASEWORK,
        object_type="case",
        object_id=case.pk,
        detail=detail,
    )


def _sms(case: Case, text: str) -> None:
    applicant = case.application.applicant
    if not applicant.phone_enc:
        return
    phone = crypto.decrypt(applicant.phone_enc, field="person.phone")
    transaction.on_commit(lambda: sms.get_backend().send(sms.SmsMessage(phone=phone, text=text)))


@transaction.atomic
def case_amount_change(
    *,
    actor: User,
    case_id: int,
    from_month: str,
    amount,
    reason: str,
    kind: str = AmountChangeKind.ADJUST,
) -> AmountChange:
    """Change the monthly amount from ``from_month`` on (not before the start month, not in a
    month already past: a released roster is never rewritten, a correction is supplementary)."""
    case = _approved(actor, case_id)
    month = parse_month(from_month, code="case.month", field="from_month")
    earliest = max(case.start_month, month_of(timezone.localdate()))
    if month < earliest:
        raise ServiceError(
            "case.month", f"调整只能自{earliest}起(发放起始月份与本月中较晚者)", field="from_month"
        )
    value = _money(amount)
    change, _ = AmountChange.objects.update_or_create(
        case=case,
        from_month=month,
        defaults={
            "amount": value,
            "kind": kind,
            "reason": _reason(reason, "调整理由"),
            "created_by": actor,
        },
    )
    case.version += 1
    case.save(update_fields=["version", "updated_at"])
    _audit(actor, "case.amount_change", case, {"from": month, "amount": str(value), "kind": kind})
    name = catalogue.programme(case.programme).name
    _sms(case, f"【常州大救助】您的{name}自{month}起调整为每月{value}元,理由:{change.reason}。")
    return change


@transaction.atomic
def case_stop(*, actor: User, case_id: int, last_month: str, reasons: str) -> Case:
    """停发: paid up to and including ``last_month`` (at the earliest the month before the
    start month, i.e. never paid), with reasons and a notice to the resident."""
    case = _approved(actor, case_id)
    month = parse_month(last_month, code="case.month", field="last_month")
    earliest = max(add_months(case.start_month, -1), add_months(month_of(timezone.localdate()), -1))
    if month < earliest:
        raise ServiceError("case.month", f"停发月份不能早于{earliest}", field="last_month")
    case.status = CaseStatus.STOPPED
    case.end_month = month
    case.stop_reasons = _reason(reasons, "停发理由")
    case.stopped_on = timezone.localdate()
    case.version += 1
    case.save(
        update_fields=["status", "end_month", "stop_reasons", "stopped_on", "version", "updated_at"]
    )
    _audit(actor, "case.stop", case, {"last_month": month})
    name = catalogue.programme(case.programme).name
    _sms(
        case,
        f"【常州大救助】您的{name}发放至{month}止,理由:{case.stop_reasons}。"
        "如有异议,可自收到通知之日起60日内申请行政复议,或6个月内提起行政诉讼。",
    )
    return case
