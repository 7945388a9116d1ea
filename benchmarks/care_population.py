"""The special-hardship list at the seed's scale: one page of `/work/care/people/` over 60,000
people (the counts per town, the filtered page of 50, the audit), timed through the selector the
page calls. Reuses a home made by `care_check.py` (``--home``), giving every person a current
hardship category and 10 % a care plan.

    .venv/bin/python benchmarks/care_population.py --home /tmp/djz-bench-…
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, peak_rss_mib


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", required=True)
    args = parser.parse_args()
    os.environ["DAJIUZHU_HOME"] = args.home
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "dajiuzhu.settings"
    from dajiuzhu.cli import setup_django

    setup_django()
    from dajiuzhu.care.models import Plan
    from dajiuzhu.care.population import population_page
    from dajiuzhu.core.models import User
    from dajiuzhu.core.roles import Purpose, Role
    from dajiuzhu.core.services import user_create
    from dajiuzhu.registry.models import HardshipCategory, Person

    people = list(Person.objects.values_list("pk", "hukou_division_id"))
    if not HardshipCategory.objects.filter(source="bench-care").exists():
        kinds = ["tekun", "elderly_alone", "severe_disability", "left_behind_elderly"]
        HardshipCategory.objects.bulk_create(
            [
                HardshipCategory(
                    person_id=pk,
                    category=kinds[pk % 4],
                    start_date=date(2023, 1, 1),
                    source="bench-care",
                )
                for pk, _ in people
            ],
            batch_size=5000,
        )
        Plan.objects.bulk_create(
            [
                Plan(person_id=pk, version=1, division_code=div, review_date=date(2030, 1, 1))
                for pk, div in people[::10]
            ],
            batch_size=5000,
        )
    user = User.objects.filter(username="bench_call").first() or user_create(
        actor=None,
        username="bench_call",
        password=secrets.token_urlsafe(16),
        role=Role.CALL_OPERATOR,
        scope_code="320400",
        check_password=False,
    )
    timings = {}
    for name, filters in (
        ("city_first_page", {}),
        ("city_page_100", {"page": 100}),
        ("town_unplanned", {"town": people[0][1][:9], "plan_status": "none"}),
        ("name_search", {"name": "测试99"}),
    ):
        t0 = time.perf_counter()
        p = population_page(user=user, purpose=Purpose.CARE, **filters)
        timings[name] = {"seconds": round(time.perf_counter() - t0, 2), "total": p.total}
    emit(
        {
            "benchmark": "care_population",
            "database": "sqlite",
            "people": len(people),
            "towns": len(p.towns),
            "pages": timings,
            "peak_rss_mib": round(peak_rss_mib()),
        }
    )


if __name__ == "__main__":
    main()
