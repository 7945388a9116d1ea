"""Writes of the payments domain: build a month's rosters, release one (the second person),
import the bank's returns, ask for a returned payment to be sent again. Each is atomic and
audited; the lake publication of a released roster is in ``publication``.

How a month is built (``roster_build``): every approved (or stopped) case of a programme that
pays money (the catalogue's ``payment``) is payable for month M when M lies from its start
month up to its end month (monthly), or is its start month (once); the amount is the decided
amount or its latest change (``cases.dynamic.amount_for_month``). A payee who died before M
is not paid (counted as ``deceased``). For each district and programme the payable case-months
not yet on a roster, and the returned payments asked to be sent again, go onto the one roster
of the month still being prepared — the regular roster (batch 1) or, once that is released, a
supplementary one (批次 2, 3 …). Building again changes nothing when nothing changed."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from dajiuzhu.cases.dynamic import amount_in_month
from dajiuzhu.cases.models import AmountChange, Case, CaseStatus
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.errors import AccessDenied, NotFound, ServiceError
from dajiuzhu.core.models import Division, DivisionLevel, User
from dajiuzhu.core.months import add_months, first_day, month_of, parse_month
from dajiuzhu.core.roles import Purpose
from dajiuzhu.payments.access import (
    PREPARE_ROLES,
    RELEASE_ROLES,
    access_roster_by_id,
    payments_visible,
    require_district_staff,
)
from dajiuzhu.payments.models import Payment, PaymentStatus, ReturnImport, Roster, RosterStatus
from dajiuzhu.policy import catalogue

CODE = "payments.month"


def paying_programmes() -> dict[str, str]:
    """Programme code → its payment kind, for the programmes that pay money."""
    return {p.code: p.payment for p in catalogue.load_catalogue() if p.payment != "in_kind"}


def payment_id_for(case_id: int, month: str) -> str:
    return f"DJZ{month.replace('-', '')}{case_id:09d}"


def _audit(actor: User | None, action: str, object_type: str, object_id, detail: dict) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        purpose=Purpose.CASEWORK,
        detail=detail,
        label=None if actor else "cli",
    )


def check_roster_month(month: str) -> str:
    """A month up to the next one (a roster is prepared before its month begins)."""
    value = parse_month(month, code=CODE)
    latest = add_months(month_of(timezone.localdate()), 1)
    if value > latest:
        raise ServiceError(CODE, f"发放月份不能晚于{latest}", field="month")
    return value


def _districts(actor: User | None, district: str | None) -> list[Division]:
    qs = Division.objects.filter(level=DivisionLevel.DISTRICT)
    if district:
        code = district.strip()
        found = qs.filter(code=code).first()
        if found is None:
            raise ServiceError(
                "payments.district", f"没有代码为{code[:12]}的区(市)", field="district"
            )
        if actor is not None and not code.startswith(actor.scope_prefix):
            raise NotFound
        return [found]
    if actor is not None:
        return list(qs.filter(code__startswith=actor.scope_prefix).order_by("code"))
    return list(qs.order_by("code"))


@dataclass
class BuildSummary:
    month: str
    rosters_created: int = 0
    lines_added: int = 0
    lines_updated: int = 0
    lines_removed: int = 0
    resent: int = 0
    deceased: int = 0
    unchanged_rosters: int = 0
    rosters: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


PAYABLE = (CaseStatus.APPROVED, CaseStatus.STOPPED)


def _payable(month: str, prefixes: list[str]) -> tuple[list[dict], int]:
    """(case_id, programme, district, household, person, amount) of every payable case-month
    of the districts, and how many payees had died before the month. Plain rows, no model
    instances: a month of a large city is tens of thousands of cases."""
    kinds = paying_programmes()
    scope = Q()
    for prefix in prefixes:
        scope |= Q(town__code__startswith=prefix)
    cases = (
        Case.objects.filter(
            scope,
            status__in=PAYABLE,
            programme__in=list(kinds),
            start_month__lte=month,
            start_month__gt="",
        )
        .exclude(end_month__gt="", end_month__lt=month)
        .order_by("pk")
    )
    changes: dict[int, list[tuple[str, Decimal]]] = defaultdict(list)
    for changed, from_month, new_amount in (
        AmountChange.objects.filter(case__in=cases.values("pk"), from_month__lte=month)
        .order_by("case_id", "from_month")
        .values_list("case_id", "from_month", "amount")
    ):
        changes[changed].append((from_month, new_amount))
    start_of_month = first_day(month)
    rows, deceased = [], 0
    for (
        case_id,
        programme,
        town,
        household,
        amount,
        start,
        end,
        status,
        person,
        death,
    ) in cases.values_list(
        "pk",
        "programme",
        "town_id",
        "household_id",
        "amount",
        "start_month",
        "end_month",
        "status",
        "application__applicant_id",
        "application__applicant__death_date",
    ):
        if kinds[programme] == "once" and start != month:
            continue
        value = amount_in_month(
            month=month,
            status=status,
            amount=amount,
            start_month=start,
            end_month=end,
            changes=changes.get(case_id, []),
        )
        if value is None or value <= 0:
            continue
        if death is not None and death < start_of_month:
            deceased += 1
            continue
        rows.append(
            {
                "case_id": case_id,
                "programme": programme,
                "district": town[:6],
                "household_id": household,
                "person_id": person,
                "amount": value,
            }
        )
    return rows, deceased


@transaction.atomic
def roster_build(*, actor: User | None, month: str, district: str | None = None) -> BuildSummary:
    """Build (or bring up to date) the month's rosters of one district or of all in scope."""
    if actor is not None:
        require_district_staff(actor, PREPARE_ROLES)
    month = check_roster_month(month)
    districts = _districts(actor, district)
    prefixes = [d.code for d in districts]
    if not prefixes:
        raise ServiceError("payments.district", "管辖范围内没有区(市)", field="district")
    rows, deceased = _payable(month, prefixes)
    earliest = (
        Case.objects.filter(
            status__in=[CaseStatus.APPROVED, CaseStatus.STOPPED], start_month__gt=""
        )
        .order_by("start_month")
        .values_list("start_month", flat=True)
        .first()
    )
    resend = list(
        Payment.objects.filter(
            month=month,
            status=PaymentStatus.RETURNED,
            repay_requested=True,
            resent_on__isnull=True,
            roster__district__in=prefixes,
        ).values_list("pk", "roster__district_id", "programme")
    )
    if not rows and not resend and (earliest is None or month < earliest):
        raise ServiceError(
            CODE,
            f"{month}没有应发放的救助:该月早于所有已批准案件的发放起始月份"
            + (f"(最早为{earliest})" if earliest else "(尚无已批准的案件)"),
            field="month",
        )
    summary = BuildSummary(month=month, deceased=deceased)
    now = timezone.now()
    payable_by_key: dict[tuple[str, str], dict[int, dict]] = defaultdict(dict)
    for row in rows:
        payable_by_key[(row["district"], row["programme"])][row["case_id"]] = row
    resend_by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
    for pk, district_code, programme in resend:
        resend_by_key[(district_code, programme)].append(pk)
    # (district, programme) -> case_id -> (payment pk, roster pk, amount)
    existing: dict[tuple[str, str], dict[int, tuple[int, int, Decimal]]] = defaultdict(dict)
    for pk, case_id, roster_id, district_code, programme, amount in Payment.objects.filter(
        month=month, roster__district__in=prefixes
    ).values_list("pk", "case_id", "roster_id", "roster__district_id", "programme", "amount"):
        existing[(district_code, programme)][case_id] = (pk, roster_id, amount)
    prepared = {
        (r.district_id, r.programme): r
        for r in Roster.objects.select_for_update().filter(
            month=month, district__in=prefixes, status=RosterStatus.PREPARED
        )
    }
    keys = sorted(set(payable_by_key) | set(resend_by_key) | set(prepared))
    for key in keys:
        district_code, programme = key
        payable = payable_by_key.get(key, {})
        on_file = existing.get(key, {})
        roster = prepared.get(key)
        pending = {cid: p for cid, p in on_file.items() if roster is not None and p[1] == roster.pk}
        new = [row for cid, row in payable.items() if cid not in on_file]
        changed = [
            (pending[cid][0], row["amount"])
            for cid, row in payable.items()
            if cid in pending and pending[cid][2] != row["amount"]
        ]
        gone = [p[0] for cid, p in pending.items() if cid not in payable]
        to_resend = resend_by_key.get(key, [])
        if not (new or changed or gone or to_resend):
            if roster is not None:
                summary.unchanged_rosters += 1
            continue
        if roster is None:
            seq = (
                Roster.objects.filter(
                    district_id=district_code, programme=programme, month=month
                ).aggregate(m=Max("seq"))["m"]
                or 0
            ) + 1
            roster = Roster.objects.create(
                district_id=district_code,
                programme=programme,
                month=month,
                seq=seq,
                prepared_by=actor,
                prepared_at=now,
            )
            summary.rosters_created += 1
        else:
            roster.prepared_by, roster.prepared_at = actor, now
        Payment.objects.bulk_create(
            [
                Payment(
                    payment_id=payment_id_for(row["case_id"], month),
                    roster=roster,
                    case_id=row["case_id"],
                    person_id=row["person_id"],
                    household_id=row["household_id"],
                    programme=programme,
                    month=month,
                    amount=row["amount"],
                )
                for row in new
            ],
            batch_size=2000,
        )
        Payment.objects.bulk_update(
            [Payment(pk=pk, amount=amount) for pk, amount in changed], ["amount"], batch_size=2000
        )
        Payment.objects.filter(pk__in=gone).delete()
        Payment.objects.filter(pk__in=to_resend).update(resent_on=roster)
        _totals(roster)
        summary.lines_added += len(new)
        summary.lines_updated += len(changed)
        summary.lines_removed += len(gone)
        summary.resent += len(to_resend)
        summary.rosters.append(
            {
                "id": roster.pk,
                "district": district_code,
                "programme": programme,
                "seq": roster.seq,
                "lines": roster.lines,
                "total": f"{roster.total:.2f}",
            }
        )
        _audit(
            actor,
            "payments.roster.prepare",
            "roster",
            roster.pk,
            {
                "month": month,
                "district": district_code,
                "programme": programme,
                "seq": roster.seq,
                "added": len(new),
                "updated": len(changed),
                "removed": len(gone),
                "resent": len(to_resend),
            },
        )
    return summary


def roster_lines(roster: Roster):
    """The payments a roster sends: its own and those it sends again."""
    return Payment.objects.filter(Q(roster=roster) | Q(resent_on=roster))


def _totals(roster: Roster) -> None:
    totals = roster_lines(roster).aggregate(n=Count("pk"), total=Sum("amount"))
    roster.lines = totals["n"]
    roster.total = (totals["total"] or Decimal("0")).quantize(Decimal("0.01"))
    roster.save()


@transaction.atomic
def roster_release(*, actor: User, roster_id: int, today: date | None = None) -> Roster:
    """审核发放: the second person (an approver, not the preparer) releases the roster; it can
    no longer change. The lake publication follows (``publication.roster_publish``)."""
    roster = access_roster_by_id(actor, roster_id, for_update=True)
    require_district_staff(actor, RELEASE_ROLES)
    if roster.status != RosterStatus.PREPARED:
        raise ServiceError("payments.released", "该名册已审核发放,不能再次审核;更正请编制补发名册")
    if roster.prepared_by_id == actor.pk:
        raise AccessDenied("名册的编制人不能审核发放同一份名册")
    if roster.lines == 0:
        raise ServiceError("payments.empty", "名册没有发放记录,不能审核发放")
    paid = today or timezone.localdate()
    roster.status = RosterStatus.RELEASED
    roster.released_by = actor
    roster.released_at = timezone.now()
    roster.paid_date = paid
    roster.save(update_fields=["status", "released_by", "released_at", "paid_date"])
    Payment.objects.filter(roster=roster).update(status=PaymentStatus.PAID, paid_date=paid)
    Payment.objects.filter(resent_on=roster).update(
        status=PaymentStatus.REPAID, paid_date=paid, repay_requested=False
    )
    _audit(
        actor,
        "payments.roster.release",
        "roster",
        roster.pk,
        {"month": roster.month, "lines": roster.lines, "total": f"{roster.total:.2f}"},
    )
    return roster


@dataclass
class ReturnsSummary:
    district: str
    rows: int
    returned: int
    already: int
    refused: list[dict]
    duplicate_file: bool = False

    def as_dict(self) -> dict:
        return dict(self.__dict__)


MAX_REASON = 200


@transaction.atomic
def returns_import(
    *,
    actor: User | None,
    rows: list[dict],
    name: str,
    digest: str,
    district: str | None = None,
    today: date | None = None,
) -> ReturnsSummary:
    """The bank's returns of one district: each row ``{payment_id, reason, row}`` marks a paid
    payment returned. A row naming no payment, a payment of another district, or one not yet
    paid is refused with its row number (the others load); a file none of whose rows matches
    a payment is refused whole; the same rows again change nothing."""
    if actor is not None:
        require_district_staff(actor, PREPARE_ROLES)
    if not rows:
        raise ServiceError("payments.returns_empty", "退回文件没有数据行")
    ids = [str(r.get("payment_id") or "").strip() for r in rows]
    found = {
        p.payment_id: p
        for p in Payment.objects.select_for_update()
        .select_related("roster")
        .filter(payment_id__in=[i for i in ids if i])
    }
    if not found:
        raise ServiceError(
            "payments.returns_unmatched",
            "退回文件中没有任何一行与平台的发放记录相符(请核对“发放流水号/业务流水号”列),未导入",
        )
    if district is None:
        first = next(found[i] for i in ids if i in found)
        district = first.roster.district_id
    else:
        district = _districts(actor, district)[0].code
    if actor is not None and not district.startswith(actor.scope_prefix):
        raise NotFound
    earlier = ReturnImport.objects.filter(sha256=digest, district_id=district).first()
    refused, returned, already = [], 0, 0
    returned_on = today or timezone.localdate()
    for i, (pid, row) in enumerate(zip(ids, rows, strict=True)):
        number = row.get("row", i + 2)
        payment = found.get(pid)
        if payment is None:
            refused.append(
                {
                    "row": number,
                    "code": "unknown",
                    "message": f"没有发放流水号为“{pid[:40]}”的发放记录",
                }
            )
            continue
        if payment.roster.district_id != district:
            refused.append(
                {
                    "row": number,
                    "code": "other_district",
                    "message": "该笔发放不属于本区(市),不予处理",
                }
            )
            continue
        if payment.status == PaymentStatus.RETURNED:
            already += 1
            continue
        if payment.status == PaymentStatus.PENDING:
            refused.append(
                {"row": number, "code": "not_paid", "message": "该笔发放所在名册尚未审核发放"}
            )
            continue
        reason = str(row.get("reason") or "").strip()[:MAX_REASON] or "银行退回"
        payment.status = PaymentStatus.RETURNED
        payment.returned_on = returned_on
        payment.return_reason = reason
        payment.repay_requested = False
        payment.resent_on = None
        payment.save(
            update_fields=["status", "returned_on", "return_reason", "repay_requested", "resent_on"]
        )
        returned += 1
    if earlier is None:
        ReturnImport.objects.create(
            sha256=digest,
            district_id=district,
            name=name[:120],
            rows=len(rows),
            returned=returned,
            imported_by=actor,
            imported_at=timezone.now(),
        )
    _audit(
        actor,
        "payments.returns.import",
        "district",
        district,
        {
            "file": name[:120],
            "rows": len(rows),
            "returned": returned,
            "already": already,
            "refused": len(refused),
        },
    )
    return ReturnsSummary(
        district=district,
        rows=len(rows),
        returned=returned,
        already=already,
        refused=refused,
        duplicate_file=earlier is not None,
    )


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@transaction.atomic
def payment_repay_request(*, actor: User, payment_id: str) -> Payment:
    """Ask for a returned payment to be sent again (the account has been put right); the next
    build of its month puts it on a supplementary roster."""
    require_district_staff(actor, PREPARE_ROLES)
    payment = payments_visible(actor).select_for_update().filter(payment_id=payment_id).first()
    if payment is None:
        raise NotFound
    if payment.status != PaymentStatus.RETURNED:
        raise ServiceError("payments.not_returned", "只有银行退回的发放才能重新发放")
    payment.repay_requested = True
    payment.save(update_fields=["repay_requested"])
    _audit(actor, "payments.repay_request", "payment", payment.pk, {"month": payment.month})
    return payment
