"""精准度 measured: how many of the households the platform found (warnings, 政策找人
candidates) were helped to apply, and how many of those were approved — per warning rule and per
candidate programme, within the user's scope. The chain is recorded by the applications
themselves (``Application.warning`` / ``Application.candidate``), so nothing here is typed in."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from dajiuzhu.cases.models import Application, CaseStatus
from dajiuzhu.core.access import AccessDenied, is_staff_user, scope_q
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Role

READ_ROLES = frozenset(
    {Role.WINDOW_CLERK, Role.CASEWORKER, Role.APPROVER, Role.SUPERVISOR, Role.ADMIN}
)


@dataclass
class ChainRow:
    code: str
    label: str
    found: int
    applied: int
    approved: int
    refused: int

    @property
    def applied_share(self) -> float | None:
        return self.applied / self.found if self.found else None

    @property
    def approved_share(self) -> float | None:
        """Approved of those applied (the decided and the still open both count as applied)."""
        return self.approved / self.applied if self.applied else None


def _chain(applications, group: str) -> dict[str, tuple[int, int, int]]:
    """group value → (applications, approved, refused) — an application counts as approved
    when any of its cases was approved (or later stopped)."""
    out: dict[str, list[int]] = {}
    apps = applications.values(group).annotate(
        n=Count("pk", distinct=True),
        ok=Count(
            "pk",
            filter=Q(cases__status__in=[CaseStatus.APPROVED, CaseStatus.STOPPED]),
            distinct=True,
        ),
        no=Count("pk", filter=Q(cases__status=CaseStatus.REFUSED), distinct=True),
    )
    for row in apps:
        out[row[group]] = [row["n"], row["ok"], row["no"]]
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def _require(user: User) -> None:
    if not is_staff_user(user) or user.role not in READ_ROLES:
        raise AccessDenied


def warning_chain(*, user: User, year: int | None = None) -> list[ChainRow]:
    from dajiuzhu.warnings.access import warnings_visible
    from dajiuzhu.warnings.rules import RULES

    _require(user)
    warnings = warnings_visible(user)
    if year is not None:
        warnings = warnings.filter(year=year)
    found = dict(warnings.values("rule").annotate(n=Count("pk")).values_list("rule", "n"))
    apps = Application.objects.filter(warning__in=warnings.values("pk"))
    chain = _chain(apps, "warning__rule")
    return [
        ChainRow(code, spec.label, found.get(code, 0), *chain.get(code, (0, 0, 0)))
        for code, spec in RULES.items()
    ]


def candidate_chain(*, user: User, month: str | None = None) -> tuple[str | None, list[ChainRow]]:
    """(the month, rows) — the latest 政策找人 month with candidates unless one is given."""
    from dajiuzhu.policy import catalogue
    from dajiuzhu.policy.models import Candidate

    _require(user)
    candidates = Candidate.objects.filter(scope_q(user, "division_code"))
    month = month or candidates.order_by("-month").values_list("month", flat=True).first()
    if month is None:
        return None, []
    candidates = candidates.filter(month=month)
    found = dict(
        candidates.values("programme").annotate(n=Count("pk")).values_list("programme", "n")
    )
    chain = _chain(
        Application.objects.filter(candidate__in=candidates.values("pk")), "candidate__programme"
    )
    names = catalogue.names()
    order = {code: i for i, code in enumerate(names)}
    return month, [
        ChainRow(code, names.get(code, code), n, *chain.get(code, (0, 0, 0)))
        for code, n in sorted(found.items(), key=lambda kv: order.get(kv[0], len(order)))
    ]


def warning_years(*, user: User) -> list[int]:
    from dajiuzhu.warnings.access import warnings_visible

    _require(user)
    return sorted(set(warnings_visible(user).values_list("year", flat=True)), reverse=True)
