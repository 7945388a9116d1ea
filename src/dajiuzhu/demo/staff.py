"""Town- and community-level demo staff where the demo's warnings fall, and a first
assignment of some warnings, so that assign → visit → outcome → close works as the demo comes.

The district accounts of :mod:`dajiuzhu.demo.accounts` see a whole district; warnings are
dispatched within a town to its grid or community workers. For the town of each demo
district with the most warnings there are memorable accounts (``tn_town_clerk``,
``tn_town_grid`` …); every other town with warnings gets ``clerk_<town code>`` and
``grid_<town code>``. Every account is created and every assignment made through the services
(audited like any other).
"""

from __future__ import annotations

from collections import Counter

from django.db import transaction

from dajiuzhu.core.models import Division, User
from dajiuzhu.core.roles import Role
from dajiuzhu.core.services import user_create
from dajiuzhu.demo.accounts import DEMO_PASSWORD, DISTRICTS

# How many warnings of each town the demo assigns to its grid worker (the rest wait in the
# town clerk's queue, to be dispatched by hand).
ASSIGNED_PER_TOWN = 1


def _create(username: str, role: str, scope: str, name: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_create(
            actor=None,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            scope_code=scope,
            department_code=None,
            display_name=name,
            check_password=False,
        )
    return user


def _grid_scope(town: Division, divisions: Counter[str]) -> Division:
    """The community of the town where most of its warnings fall (the town if none)."""
    for code, _ in divisions.most_common():
        if code.startswith(town.code) and code != town.code:
            community = Division.objects.filter(code=code).first()
            if community is not None:
                return community
    return town


def town_staff_plan() -> list[dict[str, str]]:
    """Which town accounts the demo's warnings call for: one clerk (scoped to the town) and
    one grid worker (scoped to the community where most of the town's warnings fall) per
    town with warnings, in the order of the warnings' count."""
    from dajiuzhu.warnings.models import Warning

    towns = Counter(
        Warning.objects.exclude(town__isnull=True).values_list("town_id", flat=True).iterator()
    )
    divisions: dict[str, Counter[str]] = {}
    for town_id, division in Warning.objects.exclude(town__isnull=True).values_list(
        "town_id", "division_code"
    ):
        divisions.setdefault(town_id, Counter())[division] += 1
    named: dict[str, str] = {}  # town code → memorable prefix
    for prefix, (district, _) in DISTRICTS.items():
        first = next((t for t, _ in towns.most_common() if t.startswith(district)), None)
        if first is not None:
            named[first] = prefix
    plan = []
    # the memorable towns first (天宁区, 武进区), then by the number of warnings
    order = sorted(
        towns.items(), key=lambda kv: (kv[0] not in named, named.get(kv[0], ""), -kv[1], kv[0])
    )
    for town_code, _ in order:
        town = Division.objects.get(code=town_code)
        grid = _grid_scope(town, divisions[town_code])
        named_as = named.get(town_code)
        clerk_name = f"{named_as}_town_clerk" if named_as else f"clerk_{town_code}"
        grid_name = f"{named_as}_town_grid" if named_as else f"grid_{town_code}"
        plan.append(
            {
                "town": town_code,
                "clerk": clerk_name,
                "clerk_name": f"{town.name}窗口受理员",
                "grid": grid_name,
                "grid_scope": grid.code,
                "grid_name": f"{grid.name}网格员",
            }
        )
    return plan


@transaction.atomic
def demo_town_staff() -> list[dict[str, str]]:
    """Create the town accounts and assign the first warning(s) of each town to its grid
    worker (only once: a town whose warnings were already assigned is left alone). Returns
    the accounts as `demo_accounts` does."""
    from dajiuzhu.warnings.investigation import warning_assign
    from dajiuzhu.warnings.models import Status, Warning

    out = []
    for spec in town_staff_plan():
        clerk = _create(spec["clerk"], Role.WINDOW_CLERK, spec["town"], spec["clerk_name"])
        grid = _create(spec["grid"], Role.GRID_WORKER, spec["grid_scope"], spec["grid_name"])
        town_warnings = Warning.objects.filter(town_id=spec["town"])
        if not town_warnings.exclude(status=Status.PUSHED).exists():
            first = town_warnings.filter(status=Status.PUSHED).order_by("id")
            # Those in the grid worker's community first: the worker's own patch.
            patch = grid.scope_id or spec["town"]
            ordered = sorted(first, key=lambda w: not w.division_code.startswith(patch))
            for w in ordered[:ASSIGNED_PER_TOWN]:
                warning_assign(actor=clerk, warning_id=w.pk, assignee_id=grid.pk)
        out.append({"username": clerk.username, "role": clerk.role, "scope": spec["town"]})
        out.append({"username": grid.username, "role": grid.role, "scope": spec["grid_scope"]})
    return out
