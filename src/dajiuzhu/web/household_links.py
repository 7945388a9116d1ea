"""Where the household file (一户一档) links onward: the household's check reports, warnings,
政策找人 candidates and the assistance it receives according to the lake. Each list comes from
its own package's scoped read and only for roles that package lets read it; the lake is read
only with the columns the page's purpose opens (the sharing contracts' purposes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Purpose
from dajiuzhu.registry.models import Household, Person


@dataclass
class HouseholdLinks:
    reports: list[Any] = field(default_factory=list)
    warnings: list[Any] = field(default_factory=list)
    candidates: list[Any] = field(default_factory=list)
    assistance: list[dict[str, Any]] = field(default_factory=list)
    assistance_note: str = ""
    care_plans: list[Any] = field(default_factory=list)
    shows: set[str] = field(default_factory=set)


def household_links(*, user: User, household: Household, person_ids: list[int], purpose: str):
    links = HouseholdLinks()
    _reports(links, user, household)
    _warnings(links, user, household)
    _candidates(links, user, household)
    _assistance(links, user, person_ids, purpose)
    _care_plans(links, user, person_ids)
    return links


def _care_plans(links: HouseholdLinks, user: User, person_ids: list[int]) -> None:
    """The members' care plans (一策): the latest version of each, and the members of the
    special-hardship population who have none yet (each links to the person's care file)."""
    from dajiuzhu.care.selectors import household_plans

    rows = household_plans(user=user, person_ids=person_ids)
    if rows is not None:
        links.care_plans = rows
        links.shows.add("care")


def _reports(links: HouseholdLinks, user: User, household: Household) -> None:
    from dajiuzhu.verification import selectors
    from dajiuzhu.verification.services import CHECK_ROLES

    if user.role in CHECK_ROLES:
        links.reports = selectors.reports_for(user=user, household=household, limit=10)
        links.shows.add("reports")


def _warnings(links: HouseholdLinks, user: User, household: Household) -> None:
    from dajiuzhu.warnings.access import READ_ROLES, warnings_visible

    if user.role in READ_ROLES:
        links.warnings = list(
            warnings_visible(user)
            .filter(household_no=household.household_no)
            .order_by("-pushed_at")[:20]
        )
        links.shows.add("warnings")


def _candidates(links: HouseholdLinks, user: User, household: Household) -> None:
    from dajiuzhu.core.access import scope_q
    from dajiuzhu.policy.models import Candidate
    from dajiuzhu.policy.selectors import CANDIDATE_READERS

    if user.role in CANDIDATE_READERS:
        labels = _programme_labels()
        links.candidates = list(
            Candidate.objects.filter(scope_q(user, "division_code"))
            .filter(household_no=household.household_no)
            .order_by("-month")[:20]
        )
        for c in links.candidates:
            c.programme_label = labels.get(c.programme, c.programme)
        links.shows.add("candidates")


def _programme_labels() -> dict[str, str]:
    from dajiuzhu.policy import catalogue

    labels = {p.code: p.name for p in catalogue.load_catalogue()}
    labels.update({r.code: r.label for r in catalogue.results()})
    return labels


ASSISTANCE_COLUMNS = ["person_key", "program_code", "start_date", "end_date", "monthly_amount"]


def _assistance(links: HouseholdLinks, user: User, person_ids: list[int], purpose: str) -> None:
    """The members' assistance records in the lake (current and past), with the columns the
    purpose opens; none for a purpose that opens none (the page says which purposes do)."""
    from dajiuzhu.exchange import lake
    from dajiuzhu.exchange.contracts import get_contract

    opened = set(get_contract("assistance_recipients").purpose_fields(purpose))
    if "program_code" not in opened:
        names = "、".join(
            Purpose(p).label
            for p in get_contract("assistance_recipients").purposes
            if p in Purpose.values
        )
        links.assistance_note = f"救助发放数据只在以下查看目的下显示:{names}"
        return
    columns = [c for c in ASSISTANCE_COLUMNS if c in opened]
    keys = dict(Person.objects.filter(pk__in=person_ids).values_list("person_key", "name"))
    if not keys:
        return
    listing = ", ".join(str(int(k)) for k in keys)
    source = lake.current_sql("assistance_recipients")
    cols = ", ".join(columns)
    with lake.household_reads() as con:
        rows = con.execute(
            f"SELECT {cols} FROM {source} WHERE person_key IN ({listing}) "  # noqa: S608 (ints)
            "ORDER BY start_date DESC LIMIT 100"
        ).fetchall()
    labels = _programme_labels()
    for row in rows:
        r = dict(zip(columns, row, strict=True))
        r["name"] = keys.get(r.pop("person_key"), "")
        r["programme"] = labels.get(r["program_code"], r["program_code"])
        links.assistance.append(r)
    links.shows.add("assistance")
