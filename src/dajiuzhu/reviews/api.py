"""HTTP API of 复核 for staff sessions: the review queue, one review, and the approver's
confirmation (the same services as the pages)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ninja import Field, Router, Schema

from dajiuzhu.cases.access import READ_ROLES
from dajiuzhu.core.access import AccessDenied, is_staff_user
from dajiuzhu.core.apiauth import session_auth
from dajiuzhu.core.models import User
from dajiuzhu.core.schemas import ErrorOut
from dajiuzhu.reviews import selectors, services
from dajiuzhu.reviews.models import Review
from dajiuzhu.web.requests import ApiRequest

router = Router(tags=["复核与动态管理"], auth=session_auth)
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
LIST = {"x-personal-data": "review_list"}
ONE = {"x-personal-data": "review"}


def _user(request: ApiRequest) -> User:
    """Staff of the case workflow only (a resident or a department's token gets 403)."""
    if not isinstance(request.auth, User) or not is_staff_user(request.auth):
        raise AccessDenied
    if request.auth.role not in READ_ROLES:
        raise AccessDenied
    return request.auth


class ReviewOut(Schema):
    id: int
    case_id: int
    programme: str
    due_month: str
    basis: str
    status: str
    check_month: str
    check_error: str
    proposed_outcome: str
    proposed_amount: Decimal | None
    proposal_reasons: str
    visit_needed: bool
    visit_done_at: datetime | None
    outcome: str
    amount: Decimal | None
    effective_month: str


class ReviewListOut(Schema):
    total: int
    rows: list[ReviewOut]


class ConfirmIn(Schema):
    outcome: str = Field("", max_length=14, description="默认为测算建议")
    amount: Decimal | None = None
    reasons: str = Field("", max_length=500)


def _out(r: Review) -> ReviewOut:
    return ReviewOut(
        id=r.pk,
        case_id=r.case_id,
        programme=r.case.programme,
        due_month=r.due_month,
        basis=r.basis,
        status=r.status,
        check_month=r.check_month,
        check_error=r.check_error,
        proposed_outcome=r.proposed_outcome,
        proposed_amount=r.proposed_amount,
        proposal_reasons=r.proposal_reasons,
        visit_needed=r.visit_needed,
        visit_done_at=r.visit_done_at,
        outcome=r.outcome,
        amount=r.amount,
        effective_month=r.effective_month,
    )


@router.get("/reviews", response={200: ReviewListOut, **ERRORS}, openapi_extra=LIST)
def review_list(request: ApiRequest, status: str = "open"):
    rows, total = selectors.review_list(user=_user(request), status=status[:10])
    return ReviewListOut(total=total, rows=[_out(row.review) for row in rows])


@router.get("/reviews/{review_id}", response={200: ReviewOut, **ERRORS}, openapi_extra=ONE)
def review_get(request: ApiRequest, review_id: int):
    return _out(selectors.review_detail(user=_user(request), review_id=review_id).review)


@router.post("/reviews/{review_id}/confirm", response={200: ReviewOut, **ERRORS}, openapi_extra=ONE)
def review_confirm(request: ApiRequest, review_id: int, payload: ConfirmIn):
    review = services.review_confirm(
        actor=_user(request),
        review_id=review_id,
        outcome=payload.outcome,
        amount=payload.amount,
        reasons=payload.reasons,
    )
    return _out(review)
