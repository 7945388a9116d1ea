"""The review cycle through the CLI and the services: schedule (idempotent, by stability and
income regularity), run the check, propose, visit, confirm through cases.dynamic."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.utils import timezone

from dajiuzhu.cases.models import AmountChange, Case, CaseStatus
from dajiuzhu.cases.notice import notice_context, notice_pdf
from dajiuzhu.cli import main
from dajiuzhu.core.errors import ServiceError
from dajiuzhu.core.months import add_months, month_of
from dajiuzhu.registry.models import Category, HardshipCategory
from dajiuzhu.reviews import services
from dajiuzhu.reviews.models import Review
from tests.factories.reviews import approved_case, authorise
from tests.factories.verification import load_family

THIS = month_of(timezone.localdate())
NEXT = add_months(THIS, 1)


def _cli(capsys, *argv) -> tuple[int, dict]:
    code = main(["reviews", *argv])
    out = capsys.readouterr().out.strip().splitlines()
    return code, json.loads(out[-1])


def test_schedule_is_idempotent_and_counts_from_the_start_month(complete_family, capsys):
    case = approved_case(complete_family.household, start_month="2025-06")
    code, summary = _cli(capsys, "schedule", "--month", "2025-11")
    assert (code, summary["due"], summary["created"], summary["not_yet_due"]) == (0, 0, 0, 1)
    code, summary = _cli(capsys, "schedule", "--month", "2025-12")
    # head and spouse are of working age; no check yet: irregular income, every 6 months
    assert (code, summary["created"], summary["by_basis"]["irregular"]) == (0, 1, 1)
    review = Review.objects.get()
    assert (review.case_id, review.due_month, review.basis, review.interval_months) == (
        case.pk,
        "2025-12",
        "irregular",
        6,
    )
    code, summary = _cli(capsys, "schedule", "--month", "2026-03")
    assert (code, summary["created"], summary["open_already"]) == (0, 0, 1)
    assert Review.objects.count() == 1


def test_stable_household_is_reviewed_yearly(complete_family, capsys):
    from datetime import date

    for person in (complete_family.head, complete_family.spouse):
        HardshipCategory.objects.create(
            person=person, category=Category.SEVERE_DISABILITY, start_date=date(2020, 1, 1)
        )
    approved_case(complete_family.household, start_month="2025-06")
    _code, summary = _cli(capsys, "schedule", "--month", "2025-12")
    assert summary["created"] == 0
    _code, summary = _cli(capsys, "schedule", "--month", "2026-06")
    assert (summary["created"], summary["by_basis"]["stable"]) == (1, 1)
    assert Review.objects.get().due_month == "2026-06"


def test_bad_month_is_refused(capsys, db):
    code = main(["reviews", "schedule", "--month", "2025-13"])
    captured = capsys.readouterr()
    assert code == 2
    assert "月份格式不正确" in captured.err
    assert json.loads(captured.out.strip().splitlines()[-1])["error"] == "review.month"
    code = main(["reviews", "schedule", "--month", add_months(THIS, 13)])
    assert code == 2


def test_run_proposes_an_adjustment_and_the_approver_confirms(
    complete_family, capsys, approver, sms_outbox
):
    case = approved_case(complete_family.household, start_month="2025-06")
    authorise(complete_family.household)
    _cli(capsys, "schedule", "--month", "2025-12")
    code, summary = _cli(capsys, "run")
    assert (code, summary["run"], summary["adjust"], summary["visit"]) == (0, 1, 1, 0)
    review = Review.objects.get()
    assert (review.status, review.check_month, review.regular_income) == (
        "checked",
        "2023-08",
        False,
    )
    assert (review.proposed_outcome, review.proposed_amount) == ("adjust", Decimal("1717.00"))
    assert review.proposal_reasons == (
        "经复核仍符合低保条件,按现行标准和家庭收入测算,月金额由500.00元调整为1717.00元"
    )
    done = services.review_confirm(actor=approver, review_id=review.pk)
    assert (done.status, done.outcome, done.amount, done.effective_month) == (
        "done",
        "adjust",
        Decimal("1717.00"),
        NEXT,
    )
    change = AmountChange.objects.get(case=case)
    assert (change.from_month, change.amount, change.kind) == (NEXT, Decimal("1717.00"), "adjust")
    with pytest.raises(ServiceError) as exc:
        services.review_confirm(actor=approver, review_id=review.pk)
    assert exc.value.code == "review.not_checked"
    # the next review counts from the month this one was completed (irregular: 6 months)
    _code, summary = _cli(capsys, "schedule", "--month", add_months(THIS, 6))
    assert summary["created"] == 1
    assert Review.objects.filter(status="pending").get().due_month == add_months(THIS, 6)


def _income_family(wage: str):
    family = load_family(head_wage=wage, complete=True)
    authorise(family.household)
    return family


def test_gradual_exit_then_stop_when_it_ends(db, capsys, approver, sms_outbox):
    family = _income_family("4500.00")
    case = approved_case(family.household, amount="300.00", start_month="2025-06")
    _cli(capsys, "schedule", "--month", "2025-12")
    _cli(capsys, "run")
    review = Review.objects.get()
    assert (review.proposed_outcome, review.proposed_amount) == ("gradual_exit", Decimal("300.00"))
    assert review.figures["gradual_exit_months"] == 6
    services.review_confirm(actor=approver, review_id=review.pk)
    change = AmountChange.objects.get(case=case)
    assert (change.kind, change.from_month, change.amount) == (
        "gradual_exit",
        NEXT,
        Decimal("300.00"),
    )
    follow = Review.objects.get(status="pending")
    assert (follow.basis, follow.due_month) == ("gradual_exit", add_months(NEXT, 6))
    # at the end of the exit the months used are counted from the AmountChange rows
    from dajiuzhu.reviews.proposal import gradual_exit_months_used

    changes = list(case.amount_changes.all())
    assert gradual_exit_months_used(changes, add_months(NEXT, 6)) == (6, NEXT)
    assert gradual_exit_months_used(changes, add_months(NEXT, 2)) == (2, NEXT)
    assert gradual_exit_months_used(changes, NEXT) == (0, "")


def test_stop_sends_the_notice_with_reasons(db, capsys, approver, sms_outbox):
    family = _income_family("9000.00")
    case = approved_case(family.household, amount="300.00", start_month="2025-06")
    _cli(capsys, "schedule", "--month", "2025-12")
    _code, summary = _cli(capsys, "run")
    assert summary["stop"] == 1
    review = Review.objects.get()
    assert review.proposal_reasons == "经复核,家庭人均收入或家庭财产状况不再符合低保条件"
    with pytest.raises(ServiceError) as exc:
        services.review_confirm(actor=approver, review_id=review.pk, outcome="continue")
    assert exc.value.code == "review.reasons"
    services.review_confirm(actor=approver, review_id=review.pk)
    case.refresh_from_db()
    assert (case.status, case.end_month) == (CaseStatus.STOPPED, THIS)
    assert case.stop_reasons == review.proposal_reasons
    ctx = notice_context(case)
    assert (ctx["title"], ctx["stopped"]) == ("停发通知书", True)
    assert notice_pdf(case).startswith(b"%PDF")


def test_a_check_that_cannot_run_needs_a_visit(complete_family, capsys, caseworker, grid, approver):
    approved_case(complete_family.household, start_month="2025-06")
    _cli(capsys, "schedule", "--month", "2025-12")
    _code, summary = _cli(capsys, "run")  # nobody has signed an authorisation
    assert (summary["check_failed"], summary["visit"]) == (1, 1)
    review = Review.objects.get()
    assert review.status == "pending"
    assert review.visit_reasons[0].startswith(
        "核对未能完成:以下成年家庭成员尚未签署有效的核对授权书"
    )
    services.review_visit_assign(actor=caseworker, review_id=review.pk, assignee_id=grid.pk)
    services.review_visit_record(actor=grid, review_id=review.pk, findings="入户签署授权书")
    authorise(complete_family.household)
    review = services.review_run(actor=caseworker, review_id=review.pk)
    assert (review.status, review.proposed_outcome, review.visit_needed) == (
        "checked",
        "adjust",
        True,
    )
    assert services.review_confirm(actor=approver, review_id=review.pk).outcome == "adjust"


def test_visit_must_be_recorded_before_confirming(complete_family, capsys, caseworker, approver):
    approved_case(complete_family.household, start_month="2025-06")
    authorise(complete_family.household)
    _cli(capsys, "schedule", "--month", "2025-12")
    _cli(capsys, "run")
    review = Review.objects.get()
    with pytest.raises(ServiceError) as exc:
        services.review_visit_assign(actor=caseworker, review_id=review.pk, assignee_id=approver.pk)
    assert exc.value.code == "review.assignee"
    Review.objects.filter(pk=review.pk).update(visit_needed=True, visit_reasons=["成员变化"])
    with pytest.raises(ServiceError) as exc:
        services.review_confirm(actor=approver, review_id=review.pk)
    assert exc.value.code == "review.visit"


def test_out_of_scope_is_not_found(complete_family, capsys, outsider):
    from dajiuzhu.core.access import NotFound

    approved_case(complete_family.household, start_month="2025-06")
    _cli(capsys, "schedule", "--month", "2025-12")
    review = Review.objects.get()
    with pytest.raises(NotFound):
        services.review_run(actor=outsider, review_id=review.pk)
    assert Case.objects.get().status == CaseStatus.APPROVED


def test_the_worker_schedules_this_month_and_runs_the_batches(complete_family):
    from dajiuzhu.reviews import tasks

    approved_case(complete_family.household, start_month=add_months(THIS, -6))
    authorise(complete_family.household)
    summary = tasks.schedule_reviews.call_local()
    assert (summary["created"], summary["batches"]) == (1, 1)
    review = Review.objects.get()
    assert (review.due_month, review.status, review.proposed_outcome) == (THIS, "checked", "adjust")
