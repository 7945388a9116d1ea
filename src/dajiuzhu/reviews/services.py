"""Writes of 复核: schedule the tasks falling due, run a review's check and proposal, send and
record the home visit, and confirm the outcome (through ``cases.dynamic``). Each write is
atomic and audited in the same transaction."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from dajiuzhu.cases import dynamic
from dajiuzhu.cases.access import DECIDE_ROLES, require_handler
from dajiuzhu.cases.models import AmountChangeKind, CaseStatus
from dajiuzhu.core.access import AccessDenied
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.errors import ServiceError
from dajiuzhu.core.models import User
from dajiuzhu.core.months import add_months, month_of, parse_month
from dajiuzhu.core.roles import Purpose
from dajiuzhu.policy.selectors import policy_system
from dajiuzhu.reviews import proposal, schedule
from dajiuzhu.reviews.access import (
    CASEWORK_ROLES,
    VISITOR_ROLES,
    access_review_by_id,
    require,
)
from dajiuzhu.reviews.models import Basis, Outcome, Review, ReviewStatus

MAX_TEXT = 2000
BATCH = 200
COMMIT_CHUNK = 25  # reviews written per transaction by the worker


def _this_month() -> str:
    return month_of(timezone.localdate())


def _audit(actor: User | None, action: str, object_id, detail: dict) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="review",
        object_id=object_id,
        purpose=Purpose.CASEWORK,
        detail=detail,
        label=None if actor else "system",
    )


def _text(value: str, *, field: str, label: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ServiceError("review.text", f"请填写{label}", field=field)
    if len(text) > MAX_TEXT:
        raise ServiceError("review.text", f"{label}不能超过{MAX_TEXT}字", field=field)
    return text


@transaction.atomic
def reviews_schedule(*, actor: User | None = None, month: str | None = None) -> dict:
    """Create the review tasks falling due by ``month`` (default: this month). Idempotent."""
    if actor is not None:
        require(actor, CASEWORK_ROLES | DECIDE_ROLES | {"admin"})
    this = _this_month()
    month = this if month is None else parse_month(month, code="review.month")
    if month > add_months(this, 12):
        raise ServiceError(
            "review.month", f"复核月份不能晚于{add_months(this, 12)}(一年以内)", field="month"
        )
    tasks, summary = schedule.due_reviews(month, system=policy_system())
    before = Review.objects.count()
    Review.objects.bulk_create(tasks, batch_size=2000, ignore_conflicts=True)
    summary["created"] = Review.objects.count() - before
    _audit(actor, "review.schedule", "*", {k: v for k, v in summary.items()})
    return summary


def _members_before(review: Review) -> set[int] | None:
    """The members of the case's previous check (the last review's, or the front check)."""
    from dajiuzhu.verification.models import VerificationReport

    last = (
        Review.objects.filter(case=review.case, report__isnull=False)
        .exclude(pk=review.pk)
        .order_by("-checked_at")
        .values_list("report_id", flat=True)
        .first()
    ) or review.case.application.verification_report_id
    if last is None:
        return None
    report = VerificationReport.objects.filter(pk=last).values_list("report", flat=True).first()
    return {m["person_id"] for m in (report or {}).get("members", [])}


def _check_month() -> tuple[str, str]:
    """The data month a review's check looks at now, and the month its outcome takes effect."""
    from dajiuzhu.verification.services import latest_check_month

    this = _this_month()
    month = latest_check_month(not_after=add_months(this, -1)) or add_months(this, -1)
    return month, add_months(this, 1)


def _failed(actor: User | None, review: Review, month: str, exc: ServiceError) -> Review:
    with transaction.atomic():
        review = Review.objects.select_for_update().get(pk=review.pk)
        review.check_month, review.check_error = month, exc.message[:300]
        review.checked_at = timezone.now()
        review.visit_needed = True
        review.visit_reasons = [f"核对未能完成:{exc.message}"[:300]]
        review.save()
        _audit(actor, "review.check_failed", review.pk, {"case": review.case_id, "code": exc.code})
    return review


def _paid(review: Review, effective: str):
    """The case's amount changes and the amount paid in the month before ``effective``."""
    case = review.case
    changes = list(case.amount_changes.all())
    current = dynamic.amount_for_month(case, add_months(effective, -1)) or case.amount
    return changes, current


def _checked(
    actor: User | None,
    review: Review,
    report,
    month: str,
    effective: str,
    system,
    results: list[dict] | None = None,
):
    case = review.case
    changes, current = _paid(review, effective)
    p = proposal.propose(
        case=case,
        report=report.report,
        system=system,
        current=current,
        effective_month=effective,
        changes=changes,
        members_before=_members_before(review),
        results=results,
    )
    with transaction.atomic():
        review = Review.objects.select_for_update().get(pk=review.pk)
        review.report = report
        review.check_month = month
        review.check_error = ""
        review.checked_at = timezone.now()
        review.regular_income = schedule.regular_income(report.report)
        review.proposed_outcome = p.outcome
        review.proposed_amount = p.amount
        review.proposal_reasons = p.reasons
        review.figures = p.figures
        # a visit already sent or made stays on the review
        review.visit_needed = bool(p.visit_reasons) or bool(
            review.visit_assignee_id or review.visit_done_at
        )
        review.visit_reasons = p.visit_reasons or review.visit_reasons
        review.status = ReviewStatus.CHECKED
        review.save()
        _audit(
            actor,
            "review.check",
            review.pk,
            {"case": case.pk, "report": report.pk, "proposed": p.outcome, "visit": p.visit_reasons},
        )
    return review


def _runnable(review: Review) -> None:
    if review.status == ReviewStatus.DONE:
        raise ServiceError("review.done", "该复核已办结")
    if review.case.status != CaseStatus.APPROVED:
        raise ServiceError("review.case", "该案件已不在保障中,无需复核")


def review_run(*, actor: User, review_id: int) -> Review:
    """A caseworker of the town re-runs the review's check now and records what the rules say
    (the worker runs pending reviews in batches: ``reviews_run_pending``). A check that cannot
    run (no data, an authorisation lapsed) is recorded with its reason and a visit is needed."""
    from dajiuzhu.verification.services import verify

    require(actor, CASEWORK_ROLES)
    review = access_review_by_id(actor, review_id)
    _runnable(review)
    month, effective = _check_month()
    try:
        report = verify(
            actor=actor,
            household_id=review.case.household_id,
            month=month,
            purpose=Purpose.CASEWORK,
        )
    except ServiceError as exc:
        return _failed(actor, review, month, exc)
    return _checked(actor, review, report, month, effective, policy_system())


def reviews_run_pending(*, limit: int | None = None, ids: list[int] | None = None) -> dict:
    """Run the pending reviews as the worker does: in batches of ``BATCH``, each batch's
    households checked with one lake read (``verify_batch``). Counts by proposed outcome."""
    from dajiuzhu.verification.models import VerificationReport
    from dajiuzhu.verification.services import verify_batch

    qs = Review.objects.filter(status=ReviewStatus.PENDING, case__status=CaseStatus.APPROVED)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    qs = qs.select_related("case", "case__application").order_by("due_month", "id")
    if limit is not None:
        qs = qs[:limit]
    reviews = list(qs)
    counts = {"run": 0, "check_failed": 0, **dict.fromkeys(Outcome.values, 0), "visit": 0}
    if not reviews:
        return counts
    month, effective = _check_month()
    system = policy_system()
    for start in range(0, len(reviews), BATCH):
        batch = reviews[start : start + BATCH]
        try:
            reports = verify_batch(household_ids=[r.case.household_id for r in batch], month=month)
        except ServiceError as exc:  # the month has no data at all: every check fails alike
            reports = {r.case.household_id: exc for r in batch}
        checked = [
            (r, report)
            for r in batch
            if isinstance(report := reports.get(r.case.household_id), VerificationReport)
        ]
        entries = []
        for review, report in checked:
            changes, current = _paid(review, effective)
            used, _began = proposal.gradual_exit_months_used(changes, effective)
            entries.append((report.report, proposal.overrides(current, used)))
        answers = dict(
            zip(
                [r.pk for r, _ in checked],
                proposal.rerun_many(system, month, entries),
                strict=True,
            )
        )
        # a few reviews per transaction: one commit each, the audit chain's lock held briefly
        for first in range(0, len(batch), COMMIT_CHUNK):
            with transaction.atomic():
                for review in batch[first : first + COMMIT_CHUNK]:
                    found = reports.get(review.case.household_id)
                    if found is None:
                        found = ServiceError("review.household", "未找到该家庭")
                    if isinstance(found, ServiceError):
                        done = _failed(None, review, month, found)
                    else:
                        done = _checked(
                            None, review, found, month, effective, system, answers[review.pk]
                        )
                    counts["run"] += 1
                    if done.check_error:
                        counts["check_failed"] += 1
                    else:
                        counts[done.proposed_outcome] += 1
                    counts["visit"] += int(done.visit_needed)
    return counts


def _works_in(user: User, town: str) -> bool:
    """Staff working in the town: a jurisdiction inside it (a community, a grid) or over it
    (the district's own workers), as for a case's investigation."""
    if not user.scope_id:
        return False
    return user.scope_id.startswith(town) or town.startswith(user.scope_prefix)


@transaction.atomic
def review_visit_assign(*, actor: User, review_id: int, assignee_id: int) -> Review:
    require(actor, CASEWORK_ROLES)
    review = access_review_by_id(actor, review_id, for_update=True)
    if review.status == ReviewStatus.DONE:
        raise ServiceError("review.done", "该复核已办结")
    assignee = User.objects.filter(pk=assignee_id, is_active=True).select_related("scope").first()
    town = review.case.town_id
    if assignee is None or assignee.role not in VISITOR_ROLES or not _works_in(assignee, town):
        raise ServiceError(
            "review.assignee", "只能派发给本镇(街道)的网格员或经办人员", field="assignee"
        )
    if assignee.pk in (review.case.related_staff or []):
        raise AccessDenied("该人员为家庭成员的备案近亲属,依规回避")
    review.visit_needed = True
    if not review.visit_reasons:
        review.visit_reasons = ["经办人员要求入户核查"]
    review.visit_assignee = assignee
    review.visit_assigned_at = timezone.now()
    review.save()
    _audit(actor, "review.visit_assign", review.pk, {"assignee": assignee.pk})
    return review


@transaction.atomic
def review_visit_record(*, actor: User, review_id: int, findings: str) -> Review:
    """The visit's findings, by the assigned worker or a caseworker of the town."""
    review = access_review_by_id(actor, review_id, for_update=True)
    if actor.pk != review.visit_assignee_id and actor.role not in CASEWORK_ROLES:
        raise AccessDenied("只有被派发的人员或镇(街道)经办人员可以登记入户核查情况")
    if review.status == ReviewStatus.DONE:
        raise ServiceError("review.done", "该复核已办结")
    review.visit_findings = _text(findings, field="findings", label="入户核查情况")
    review.visit_needed = True
    review.visit_done_at = timezone.now()
    review.visit_done_by = actor
    review.save()
    _audit(actor, "review.visit", review.pk, {"case": review.case_id})
    return review


@transaction.atomic
def review_confirm(
    *, actor: User, review_id: int, outcome: str = "", amount=None, reasons: str = ""
) -> Review:
    """The approver confirms the outcome (by default the proposal): continue; adjust or
    gradual exit from next month (``case_amount_change``); stop, paid up to this month
    (``case_stop``, with the stop notice and SMS). A gradual exit schedules its follow-up
    review for the month it ends."""
    review = access_review_by_id(actor, review_id, for_update=True)
    case = review.case
    require_handler(actor, case, DECIDE_ROLES)
    if review.status != ReviewStatus.CHECKED:
        raise ServiceError(
            "review.not_checked",
            "该复核已办结" if review.status == ReviewStatus.DONE else "请先完成核对",
        )
    if review.visit_open:
        raise ServiceError("review.visit", "该复核须先完成入户核查并登记情况")
    outcome = (outcome or review.proposed_outcome).strip()
    if outcome not in Outcome.values:
        raise ServiceError("review.outcome", "请选择复核结果", field="outcome")
    changed = outcome != review.proposed_outcome
    reasons = (reasons or "").strip()
    if changed and not reasons:
        raise ServiceError("review.reasons", "复核结果与测算建议不同,请写明理由", field="reasons")
    reasons = (reasons or review.proposal_reasons)[:500]
    this = _this_month()
    effective = add_months(this, 1)
    value = None
    if outcome == Outcome.STOP:
        dynamic.case_stop(actor=actor, case_id=case.pk, last_month=this, reasons=reasons)
        effective = this
    elif outcome in (Outcome.ADJUST, Outcome.GRADUAL_EXIT):
        raw = amount if amount not in (None, "") else review.proposed_amount
        if raw is None:
            raise ServiceError("review.amount", "请填写调整后的月金额", field="amount")
        kind = AmountChangeKind.GRADUAL_EXIT
        if outcome == Outcome.ADJUST:
            kind = AmountChangeKind.ADJUST
        change = dynamic.case_amount_change(
            actor=actor,
            case_id=case.pk,
            from_month=effective,
            amount=raw,
            reason=reasons,
            kind=kind,
        )
        value = change.amount
    else:
        value = dynamic.amount_for_month(case, this) or case.amount
    review.outcome = outcome
    review.amount = value
    review.reasons = reasons
    review.effective_month = effective
    review.done_month = this
    review.decided_by = actor
    review.decided_at = timezone.now()
    review.status = ReviewStatus.DONE
    review.save()
    if outcome == Outcome.GRADUAL_EXIT:
        limit = int(review.figures.get("gradual_exit_months") or 6)
        Review.objects.get_or_create(
            case=case,
            due_month=proposal.next_follow_up(effective, limit),
            defaults={"basis": Basis.GRADUAL_EXIT, "interval_months": limit},
        )
    _audit(
        actor,
        "review.confirm",
        review.pk,
        {"case": case.pk, "outcome": outcome, "amount": str(value) if value else None},
    )
    return review
