"""Access to the policy package's records by id, the scope in the query (docs/architecture.md,
"Access control"): a record outside the user's scope is *not found*."""

from __future__ import annotations

from dajiuzhu.core.access import NotFound, require_role, scope_q
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Role
from dajiuzhu.policy.models import Candidate

# Who follows up 政策找人 candidates (within their scope).
CANDIDATE_ROLES = frozenset(
    {Role.WINDOW_CLERK, Role.CASEWORKER, Role.APPROVER, Role.GRID_WORKER, Role.ADMIN}
)


def access_candidate_by_id(user: User, candidate_id: int, *, for_update: bool = False) -> Candidate:
    require_role(user, CANDIDATE_ROLES)
    candidates = Candidate.objects.filter(scope_q(user, "division_code"))
    if for_update:
        candidates = candidates.select_for_update()
    candidate = candidates.filter(pk=candidate_id).first()
    if candidate is None:
        raise NotFound
    return candidate
