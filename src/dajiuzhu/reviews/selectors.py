"""Reads of 复核, scoped to the acting user: the town's (or district's) review queue, one
review with its check and proposal, and a worker's visit list. Reads of persons are audited."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from dajiuzhu.cases.dynamic import amount_for_month
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.models import User
from dajiuzhu.core.months import month_of
from dajiuzhu.core.roles import Purpose, Role
from dajiuzhu.policy import catalogue
from dajiuzhu.reviews.access import access_review_by_id, reviews_visible
from dajiuzhu.reviews.models import Review, ReviewStatus

STATUS_FILTERS = [
    ("open", "未办结"),
    *ReviewStatus.choices,
    ("visit", "待入户核查"),
    ("all", "全部"),
]


def masked_name(name: str) -> str:
    return (name[:1] + "*" * max(len(name) - 1, 1)) if name else ""


@dataclass
class Row:
    review: Review
    programme: str
    applicant: str
    town: str


def _filtered(user: User, status: str) -> QuerySet[Review]:
    qs = reviews_visible(user)
    if status == "open":
        qs = qs.exclude(status=ReviewStatus.DONE)
    elif status == "visit":
        qs = qs.filter(visit_needed=True, visit_done_at__isnull=True).exclude(
            status=ReviewStatus.DONE
        )
    elif status in ReviewStatus.values:
        qs = qs.filter(status=status)
    return qs


def review_list(*, user: User, status: str = "open", limit: int = 100) -> tuple[list[Row], int]:
    qs = _filtered(user, status)
    total = qs.count()
    reviews = list(
        qs.select_related("case", "case__application__applicant", "case__town").order_by(
            "due_month", "id"
        )[:limit]
    )
    rows = [
        Row(
            review=r,
            programme=catalogue.programme(r.case.programme).name,
            applicant=masked_name(r.case.application.applicant.name),
            town=r.case.town.name,
        )
        for r in reviews
    ]
    if rows:
        audit_record(
            actor=user,
            action="review.list",
            object_type="review",
            object_id="*",
            purpose=Purpose.CASEWORK,
            detail={"reviews": [r.review.pk for r in rows]},
        )
    return rows, total


@dataclass
class Detail:
    review: Review
    programme: str
    applicant: str
    current_amount: object
    assignees: list[User]


def review_detail(*, user: User, review_id: int) -> Detail:
    review = access_review_by_id(user, review_id)
    case = review.case
    audit_record(
        actor=user,
        action="review.read",
        object_type="review",
        object_id=review.pk,
        purpose=Purpose.CASEWORK,
        detail={"case": case.pk},
    )
    assignees = list(
        User.objects.filter(
            is_active=True,
            role__in=[Role.GRID_WORKER, Role.CASEWORKER],
        )
        .filter(Q(scope__code__startswith=case.town_id) | Q(scope__code=case.town_id[:6]))
        .order_by("role", "username")[:50]
    )
    return Detail(
        review=review,
        programme=catalogue.programme(case.programme).name,
        applicant=masked_name(case.application.applicant.name),
        current_amount=amount_for_month(case, month_of_today()),
        assignees=assignees,
    )


def month_of_today() -> str:
    from django.utils import timezone

    return month_of(timezone.localdate())


@dataclass
class VisitCard:
    review: Review
    programme: str
    person_name: str
    phone: str
    household_no: str
    address: str


def visit_list(*, user: User) -> list[VisitCard]:
    """The worker's review visits not yet recorded (the phone task list)."""
    from dajiuzhu.registry.selectors import display_phone

    reviews = list(
        Review.objects.filter(visit_assignee=user, visit_done_at__isnull=True)
        .exclude(status=ReviewStatus.DONE)
        .select_related("case__application__applicant", "case__household")
        .order_by("due_month", "id")[:200]
    )
    cards = [
        VisitCard(
            review=r,
            programme=catalogue.programme(r.case.programme).name,
            person_name=r.case.application.applicant.name,
            phone=display_phone(user, r.case.application.applicant),
            household_no=r.case.household.household_no,
            address=r.case.household.address,
        )
        for r in reviews
    ]
    if cards:
        audit_record(
            actor=user,
            action="review.visits",
            object_type="review",
            object_id="*",
            purpose=Purpose.CASEWORK,
            detail={"reviews": [c.review.pk for c in cards]},
        )
    return cards
