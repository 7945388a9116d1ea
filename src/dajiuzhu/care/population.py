"""The special-hardship population (一户一档): the people of the registry's hardship categories
the care centre looks after, per town and community, with their care plan's status beside each.

Scoped like every registry read (the person's 户籍 or residence division within the user's
jurisdiction: a town sees its own people, the call centre the city); every page of the list is
audited with purpose ``care`` and the ids of the people it showed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone

from dajiuzhu.care.access import PLAN_READ_ROLES
from dajiuzhu.care.models import Plan
from dajiuzhu.core.access import require_purpose, require_role, scope_q
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.models import Division, DivisionLevel, User
from dajiuzhu.registry.models import Category, HardshipCategory, Membership, Person

# The categories of the special-hardship population (the seed's 6万多名特殊困难对象).
CARE_CATEGORIES = (
    Category.TEKUN,
    Category.ELDERLY_ALONE,
    Category.SEVERE_DISABILITY,
    Category.ORPHAN,
    Category.UNSUPPORTED_CHILD,
    Category.LEFT_BEHIND_ELDERLY,
    Category.LEFT_BEHIND_CHILD,
)
PLAN_STATUSES = (
    ("none", "未制定计划"),
    ("current", "计划有效"),
    ("review_due", "计划待复核"),
)
PAGE_SIZE = 50


def _current_categories(today: date, categories) -> QuerySet[HardshipCategory]:
    return HardshipCategory.objects.filter(category__in=categories, start_date__lte=today).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=today)
    )


def population(*, user: User, category: str = "") -> QuerySet[Person]:
    """The special-hardship people in the user's scope, annotated with their division and the
    latest plan's version and review date."""
    require_role(user, PLAN_READ_ROLES)
    today = timezone.localdate()
    categories = [category] if category in CARE_CATEGORIES else list(CARE_CATEGORIES)
    latest = Plan.objects.filter(person=OuterRef("pk")).order_by("-version")
    return (
        Person.objects.filter(
            scope_q(user, "hukou_division__code") | scope_q(user, "residence_division__code")
        )
        .filter(Exists(_current_categories(today, categories).filter(person=OuterRef("pk"))))
        .annotate(
            division_code=Coalesce(F("residence_division_id"), F("hukou_division_id")),
            plan_version=Subquery(latest.values("version")[:1]),
            plan_review=Subquery(latest.values("review_date")[:1]),
        )
    )


@dataclass
class TownRow:
    code: str
    name: str
    people: int
    planned: int

    @property
    def unplanned(self) -> int:
        return self.people - self.planned


@dataclass
class PersonRow:
    person: Person
    community: str
    categories: list[str]
    household_id: int | None
    plan_version: int | None
    plan_review: date | None
    plan_status: str
    plan_status_label: str


@dataclass
class PopulationPage:
    towns: list[TownRow]
    communities: list[Division]
    page: Page
    rows: list[PersonRow] = field(default_factory=list)
    total: int = 0


def _plan_status(version: int | None, review: date | None, today: date) -> str:
    if version is None:
        return "none"
    return "review_due" if review is not None and review < today else "current"


def population_page(
    *,
    user: User,
    purpose: str,
    town: str = "",
    community: str = "",
    category: str = "",
    plan_status: str = "",
    name: str = "",
    page: str | int | None = 1,
) -> PopulationPage:
    """One page of the list (filtered), the counts per town of the user's scope, and the
    communities of the chosen town. Audited with the ids of the people shown."""
    require_purpose(purpose)
    today = timezone.localdate()
    # annotated in ``population`` (plan_version, plan_review, division_code): the type
    # checker does not follow annotations across a function's return
    people: QuerySet[Any] = population(user=user, category=category)
    towns = [
        TownRow(code=r["town"], name="", people=r["people"], planned=r["planned"])
        for r in people.annotate(town=Substr("division_code", 1, 9))
        .values("town")
        .annotate(people=Count("pk"), planned=Count("plan_version"))
        .order_by("town")
    ]
    codes = [t.code for t in towns]
    names = dict(Division.objects.filter(code__in=codes).values_list("code", "name"))
    for t in towns:
        t.name = names.get(t.code, t.code)
    if town:
        people = people.filter(division_code__startswith=town)
    if community:
        people = people.filter(division_code__startswith=community)
    if plan_status == "none":
        people = people.filter(plan_version__isnull=True)
    elif plan_status == "current":
        people = people.filter(plan_version__isnull=False).exclude(plan_review__lt=today)
    elif plan_status == "review_due":
        people = people.filter(plan_review__lt=today)
    if name:
        people = people.filter(name__contains=name[:50])
    paginator = Paginator(people.order_by("division_code", "name", "pk"), PAGE_SIZE)
    shown = paginator.get_page(page)
    communities = (
        list(
            Division.objects.filter(level=DivisionLevel.COMMUNITY, code__startswith=town).order_by(
                "code"
            )
        )
        if town
        else []
    )
    result = PopulationPage(towns=towns, communities=communities, page=shown, total=paginator.count)
    persons = list(shown.object_list)
    ids = [p.pk for p in persons]
    cats: dict[int, list[str]] = {}
    for c in _current_categories(today, CARE_CATEGORIES).filter(person_id__in=ids):
        cats.setdefault(c.person_id, []).append(c.get_category_display())
    households = dict(
        Membership.objects.filter(person_id__in=ids, end_date__isnull=True).values_list(
            "person_id", "household_id"
        )
    )
    division_names = dict(
        Division.objects.filter(code__in={p.division_code for p in persons}).values_list(
            "code", "name"
        )
    )
    labels = dict(PLAN_STATUSES)
    for p in persons:
        status = _plan_status(p.plan_version, p.plan_review, today)
        result.rows.append(
            PersonRow(
                person=p,
                community=division_names.get(p.division_code, p.division_code),
                categories=cats.get(p.pk, []),
                household_id=households.get(p.pk),
                plan_version=p.plan_version,
                plan_review=p.plan_review,
                plan_status=status,
                plan_status_label=labels[status],
            )
        )
    audit_record(
        actor=user,
        action="care.population.view",
        object_type="person",
        object_id="*",
        purpose=purpose,
        detail={
            "filters": {
                "town": town,
                "community": community,
                "category": category,
                "plan_status": plan_status,
                "name": bool(name),
            },
            "page": shown.number,
            "persons": ids,
        },
    )
    return result
