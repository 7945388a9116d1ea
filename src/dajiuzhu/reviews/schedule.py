"""Which approved cases fall due for 复核 in a month, and how often each household is reviewed.

The interval is a dated parameter the catalogue names (``intake.review.stable`` /
``.irregular``), read on the first day of the month the interval counts from:

- **stable** (yearly): no current member is able-bodied, i.e. no member aged 16–59 on the
  first day of the due month without a current 重残 (``severe_disability``, disability grade
  1–2) hardship category in the registry. A household where every member is ≥ 60 or severely
  disabled is one case of this.
- otherwise the household has able-bodied members. Its income is **irregular** (every six
  months, where the programme sets an ``irregular`` interval) unless the latest check for the
  case (the last review's, or the application's front check) shows a wage for each of the 12
  months of the window for every able-bodied member (**regular**, yearly). No check at all
  counts as irregular.

The interval counts from the start month (the month after approval), or from the month the
last review was completed. A task is due when that month plus the interval is not after the
month scheduled; a case with an open review gets no second one, and a unique constraint keeps
one task per case and due month (scheduling twice creates nothing new)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from dajiuzhu.cases.models import Case, CaseStatus
from dajiuzhu.core.months import add_months, first_day
from dajiuzhu.policy import catalogue
from dajiuzhu.registry.models import Category, HardshipCategory, Membership
from dajiuzhu.registry.selectors import age_on
from dajiuzhu.reviews.models import Basis, Review, ReviewStatus

WORKING_AGE = (16, 59)
FULL_WINDOW_MONTHS = 12


def reviewed_programmes() -> dict[str, catalogue.Review]:
    """Monthly programmes with a review setting: {code: its review intervals}."""
    return {
        p.code: p.intake.review
        for p in catalogue.load_catalogue()
        if p.payment == "monthly" and p.intake.review is not None
    }


def interval(system, path: str, month: str) -> int:
    return int(catalogue.limit_value(system.parameters(first_day(month)), path))


def able_bodied(members: list[tuple[date, bool]], on: date) -> int:
    """How many members (birth date, severely disabled) are able to work on ``on``."""
    lo, hi = WORKING_AGE
    return sum(1 for birth, severe in members if lo <= age_on(birth, on) <= hi and not severe)


def regular_income(report: dict | None) -> bool:
    """Every able-bodied member of the check had a wage in each month of its window."""
    if not report:
        return False
    able = [
        m
        for m in report.get("members", [])
        if WORKING_AGE[0] <= m["inputs"]["age"] <= WORKING_AGE[1]
        and m["inputs"]["disability_grade"] not in (1, 2)
    ]
    return bool(able) and all(
        m.get("details", {}).get("wage_months", 0) >= FULL_WINDOW_MONTHS for m in able
    )


def _members_by_household(case_ids_qs, on: date) -> dict[int, list[tuple[date, bool]]]:
    households = case_ids_qs.values("household_id")
    severe = set(
        HardshipCategory.objects.filter(
            category=Category.SEVERE_DISABILITY,
            start_date__lte=on,
            person__memberships__household__in=households,
            person__memberships__end_date__isnull=True,
        )
        .exclude(end_date__lt=on)
        .values_list("person_id", flat=True)
    )
    out: dict[int, list[tuple[date, bool]]] = defaultdict(list)
    rows = Membership.objects.filter(household__in=households, end_date__isnull=True).values_list(
        "household_id", "person_id", "person__birth_date", "person__status"
    )
    for household_id, person_id, birth, status in rows.iterator(chunk_size=5000):
        if status != "normal":
            continue
        out[household_id].append((birth, person_id in severe))
    return out


def due_reviews(month: str, *, system) -> tuple[list[Review], dict]:
    """The review tasks falling due by ``month`` (not yet saved) and a summary of the run."""
    programmes = reviewed_programmes()
    cases = Case.objects.filter(status=CaseStatus.APPROVED, programme__in=list(programmes))
    cases = cases.exclude(start_month="")
    open_cases = set(
        Review.objects.exclude(status=ReviewStatus.DONE)
        .filter(case__in=cases)
        .values_list("case_id", flat=True)
    )
    last_done: dict[int, tuple[str, bool | None]] = {}
    for case_id, done_month, regular in (
        Review.objects.filter(status=ReviewStatus.DONE, case__in=cases)
        .order_by("case_id", "done_month", "id")
        .values_list("case_id", "done_month", "regular_income")
        .iterator(chunk_size=5000)
    ):
        last_done[case_id] = (done_month, regular)
    on = first_day(month)
    members = _members_by_household(cases, on)
    summary: dict[str, Any] = {
        "month": month,
        "considered": 0,
        "open_already": 0,
        "not_yet_due": 0,
        "due": 0,
        "by_basis": dict.fromkeys(Basis.values, 0),
        "by_programme": {},
    }
    rows = cases.values_list(
        "pk", "household_id", "programme", "start_month", "application__verification_report_id"
    )
    pending: list[tuple[int, str, str, int | None]] = []  # need their front-check report
    tasks: list[Review] = []
    for case_id, household_id, code, start_month, report_id in rows.iterator(chunk_size=5000):
        summary["considered"] += 1
        if case_id in open_cases:
            summary["open_already"] += 1
            continue
        review = programmes[code]
        stable = able_bodied(members.get(household_id, []), on) == 0
        base, regular = last_done.get(case_id, (start_month, None))
        if stable or review.irregular is None:
            basis, path = Basis.STABLE if stable else Basis.REGULAR, review.stable
        elif regular is None and case_id not in last_done:
            pending.append((case_id, code, base, report_id))
            continue
        elif regular:
            basis, path = Basis.REGULAR, review.stable
        else:
            basis, path = Basis.IRREGULAR, review.irregular
        _add(tasks, summary, case_id, code, base, basis, path, month, system)
    if pending:
        from dajiuzhu.verification.models import VerificationReport

        ids = {r for *_x, r in pending if r}
        reports = dict(
            VerificationReport.objects.filter(pk__in=ids).values_list("pk", "report").iterator()
        )
        for waiting, code, base, report in pending:
            review = programmes[code]
            # pending holds only programmes with a path for irregular income (see above)
            if regular_income(reports.get(report) if report else None) or review.irregular is None:
                basis, path = Basis.REGULAR, review.stable
            else:
                basis, path = Basis.IRREGULAR, review.irregular
            _add(tasks, summary, waiting, code, base, basis, path, month, system)
    summary["not_yet_due"] = summary["considered"] - summary["open_already"] - summary["due"]
    summary.pop("_intervals", None)
    return tasks, summary


def _add(tasks, summary, case_id, code, base, basis, path, month, system) -> None:
    known = summary.setdefault("_intervals", {})
    if (path, base) not in known:  # the parameters of a date are costly to build
        known[(path, base)] = interval(system, path, base)
    months = known[(path, base)]
    due = add_months(base, months)
    if due > month:
        return
    tasks.append(Review(case_id=case_id, due_month=due, basis=basis, interval_months=months))
    summary["due"] += 1
    summary["by_basis"][basis] += 1
    summary["by_programme"][code] = summary["by_programme"].get(code, 0) + 1
