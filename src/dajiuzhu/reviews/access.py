"""Who sees and acts on a review: staff see the reviews of the cases they see (the case's town
in their jurisdiction, as ``cases.access``); out of scope is *not found*."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from dajiuzhu.cases.access import READ_ROLES
from dajiuzhu.core.access import AccessDenied, NotFound, is_staff_user, scope_q
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Role
from dajiuzhu.reviews.models import Review

# Who runs the check again, sends a visit and records it on the town's behalf.
CASEWORK_ROLES = frozenset({Role.CASEWORKER})
# Who confirms the outcome (the programme's district approver, as for the decision).
CONFIRM_ROLES = frozenset({Role.APPROVER})
# Who may be sent on a review visit (the same people as a warning's visit).
VISITOR_ROLES = frozenset({Role.GRID_WORKER, Role.CASEWORKER})


def reviews_visible(user: User) -> QuerySet[Review]:
    """The reviews of the user's towns, and (for a grid worker) those sent to them."""
    if is_staff_user(user) and user.role in READ_ROLES:
        return Review.objects.filter(scope_q(user, "case__town__code") | Q(visit_assignee=user))
    return Review.objects.none()


def access_review_by_id(user: User, review_id: int, *, for_update: bool = False) -> Review:
    reviews = reviews_visible(user).filter(pk=review_id)
    if for_update:
        reviews = reviews.select_for_update()
    review = reviews.select_related("case", "case__application", "case__town").first()
    if review is None:
        raise NotFound
    return review


def require(user: User, roles: frozenset[str]) -> None:
    if not is_staff_user(user) or user.role not in roles:
        raise AccessDenied
