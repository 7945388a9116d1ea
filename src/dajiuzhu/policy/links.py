"""Registry links for candidate lists: which candidate households the user may open."""

from __future__ import annotations

from dajiuzhu.core.access import scope_q
from dajiuzhu.core.models import User
from dajiuzhu.registry.models import Household


def household_links(*, user: User, household_nos: set[str]) -> dict[str, int]:
    """household_no → registry id, for the households in the user's scope (no names)."""
    return dict(
        Household.objects.filter(
            scope_q(user, "division__code"), household_no__in=list(household_nos)[:2000]
        ).values_list("household_no", "pk")
    )
