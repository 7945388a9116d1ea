"""Pages of 复核: the review queue, a review (check, proposal, visit, confirmation) and the
worker's review visits on the phone. Thin: parse, call, render."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from dajiuzhu.core.errors import ServiceError
from dajiuzhu.reviews import selectors, services
from dajiuzhu.reviews.models import Outcome
from dajiuzhu.web.decorators import staff_page
from dajiuzhu.web.marks import shows_personal_data
from dajiuzhu.web.requests import AuthedRequest


@shows_personal_data("review_list")
@require_GET
@staff_page
def queue(request: AuthedRequest) -> HttpResponse:
    status = request.GET.get("status") or "open"
    rows, total = selectors.review_list(user=request.user, status=status)
    return render(
        request,
        "reviews/queue.html",
        {"rows": rows, "total": total, "status": status, "statuses": selectors.STATUS_FILTERS},
    )


@shows_personal_data("review")
@require_GET
@staff_page
def detail(request: AuthedRequest, review_id: int) -> HttpResponse:
    d = selectors.review_detail(user=request.user, review_id=review_id)
    return render(
        request,
        "reviews/detail.html",
        {"d": d, "r": d.review, "case": d.review.case, "outcomes": Outcome.choices},
    )


@shows_personal_data("review_list")
@require_GET
@staff_page
def visits(request: AuthedRequest) -> HttpResponse:
    return render(
        request, "reviews/visits.html", {"cards": selectors.visit_list(user=request.user)}
    )


def _int(raw) -> int:
    try:
        return int(raw or 0)
    except ValueError:
        return 0


@shows_personal_data("review")
@require_POST
@staff_page
def act(request: AuthedRequest, review_id: int, action: str) -> HttpResponse:
    user, post = request.user, request.POST
    writes: dict[str, tuple[Callable[[], object], str]] = {
        "run": (lambda: services.review_run(actor=user, review_id=review_id), "已重新核对"),
        "assign": (
            lambda: services.review_visit_assign(
                actor=user, review_id=review_id, assignee_id=_int(post.get("assignee"))
            ),
            "已派发入户核查",
        ),
        "visit": (
            lambda: services.review_visit_record(
                actor=user, review_id=review_id, findings=post.get("findings", "")
            ),
            "已登记入户核查情况",
        ),
        "confirm": (
            lambda: services.review_confirm(
                actor=user,
                review_id=review_id,
                outcome=post.get("outcome", ""),
                amount=post.get("amount") or None,
                reasons=post.get("reasons", ""),
            ),
            "复核结果已确认",
        ),
    }
    if action not in writes:
        messages.error(request, "未知的操作")
        return redirect("reviews:detail", review_id=review_id)
    selectors.review_detail(user=user, review_id=review_id)  # scope first: out of scope is 404
    write, done = writes[action]
    try:
        write()
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    if post.get("next") == "visits":
        return redirect(reverse("reviews:visits") + f"#r{review_id}")
    return redirect("reviews:detail", review_id=review_id)
