"""Demo 复核: approved 低保 cases of 天宁区 whose review falls due this month, their checks run,
so that ``tn_caseworker`` sees the review queue with the rules' proposals (continue, adjust,
stop) and ``tn_approver`` confirms them; one review visit is sent to ``tn_grid``.

The cases are approved through the case services as in ``demo.cases``; then (demo only) their
start month is moved back a year, as if approved last year, so that the review is due now."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from dajiuzhu.cases import services
from dajiuzhu.cases.models import Case, StepRecord
from dajiuzhu.core.models import User
from dajiuzhu.core.months import add_months, month_of

log = logging.getLogger("dajiuzhu.demo")
FIRST, COUNT = 8, 4  # after the households demo.cases uses


def _approve(case_id: int, cw: User, grid: User, approver: User, *, extra: int) -> None:
    services.case_investigation_record(
        actor=cw, case_id=case_id, worker_ids=[grid.pk], findings="入户核实:家庭收入低"
    )
    services.case_town_review(actor=cw, case_id=case_id, opinion="经初审,符合条件,拟同意")
    step = StepRecord.objects.filter(case_id=case_id, step="publicity").first()
    services.case_publicity_close(actor=cw, case_id=case_id, today=step.due_on if step else None)
    case = Case.objects.get(pk=case_id)
    rules = case.proposed_amount
    amount = "600" if rules is None else str(rules + extra)
    services.case_decide(
        actor=approver,
        case_id=case.pk,
        approve=True,
        version=case.version,
        amount=amount,
        override_reason="" if rules is not None and not extra else "按入户调查核定的收入测算",
    )


def _eligible_first(households: list) -> list:
    """A 天宁区 household the population run found eligible for 低保 (政策找人), with no case
    yet, first: its review has an amount to adjust."""
    from dajiuzhu.demo.cases import _adults
    from dajiuzhu.policy.models import Candidate

    taken = set(Case.objects.values_list("household__household_no", flat=True))
    for no in (
        Candidate.objects.filter(programme="dibao", town__code__startswith="320402")
        .order_by("household_no")
        .values_list("household_no", flat=True)
    ):
        if no in taken:
            continue
        found = _adults(no)
        if found is not None:
            return [found, *households[: COUNT - 1]]
    return households


def demo_reviews() -> int:
    """Create the demo's reviews once. Returns how many reviews are due."""
    from dajiuzhu.demo.cases import _households, _id, _paper
    from dajiuzhu.reviews.models import Review
    from dajiuzhu.reviews.services import (
        review_visit_assign,
        reviews_run_pending,
        reviews_schedule,
    )

    if Review.objects.exists():
        return 0
    users = {u.username: u for u in User.objects.filter(username__startswith="tn_")}
    if not all(n in users for n in ("tn_clerk", "tn_caseworker", "tn_grid", "tn_approver")):
        return 0
    clerk, cw = users["tn_clerk"], users["tn_caseworker"]
    grid, approver = users["tn_grid"], users["tn_approver"]
    households = _eligible_first(_households(FIRST + COUNT)[FIRST:])
    if len(households) < COUNT:
        log.warning("demo.reviews.few_households", extra={"found": len(households)})
        return 0
    this = month_of(timezone.localdate())
    ids = []
    with transaction.atomic():
        for n, (_h, adults) in enumerate(households):
            app = services.application_submit(
                actor=clerk,
                channel="window",
                id_number=_id(adults[0]),
                programmes=["dibao"],
                paper_authorisations=_paper(adults),
                commitment=True,
                idempotency_key=f"demo-review-{n}",
            )
            case = app.cases.get()
            # the first (eligible now) is paid 50 yuan more than the rules say: the review
            # proposes to adjust it; the others no longer qualify (gradual exit or stop)
            _approve(case.pk, cw, grid, approver, extra=50 if n == 0 else 0)
            ids.append(case.pk)
        Case.objects.filter(pk__in=ids).update(start_month=add_months(this, -12))
        summary = reviews_schedule(actor=None, month=this)
    counts = reviews_run_pending()
    first = Review.objects.filter(case_id=ids[-1]).first()
    if first is not None:
        review_visit_assign(actor=cw, review_id=first.pk, assignee_id=grid.pk)
    log.info("demo.reviews", extra={"due": summary["due"], **counts})
    return summary["due"]
