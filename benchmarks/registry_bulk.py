"""Registry bulk load and lookup (issue: platform foundation).

Claims: 1,000,000 persons with encryption and blind index into PostgreSQL in <= 2 minutes;
lookup by ID number p95 <= 5 ms at 1,000,000 persons.

Baselines measured in the same run: a bare COPY of the same rows (no crypto, no upsert, no
indexes) for the load, and a primary-key fetch for the lookup.

    .venv/bin/python benchmarks/registry_bulk.py --persons 1000000
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, fresh_home, fresh_postgres_database, peak_rss_mib, percentile


def rows(n: int):
    from dajiuzhu.core.idnumber import make_id_number
    from dajiuzhu.core.reference import division_rows
    from dajiuzhu.registry.bulk import HukouRow

    towns = [r["code"] for r in division_rows() if r["level"] == "town"]
    out = []
    start = date(1930, 1, 1)
    for i in range(n):
        birth = start + timedelta(days=i % 30000)
        seq = (i // 30000) % 1000
        town = towns[i % len(towns)]
        out.append(
            HukouRow(
                id_number=make_id_number(town[:6], birth, seq),
                name=f"测试{i % 9973}",
                sex="M" if seq % 2 else "F",
                birth_date=birth,
                household_no=f"H{i // 3:08d}",
                relation="head" if i % 3 == 0 else "child",
                division_code=f"{town}{i % 20 + 1:03d}",
                address="",
                status="normal",
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=2000)
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = fresh_postgres_database("dajiuzhu_bench")
    os.environ["DAJIUZHU_HOME"] = fresh_home()
    os.environ["DJANGO_SETTINGS_MODULE"] = "dajiuzhu.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    from dajiuzhu.core import crypto
    from dajiuzhu.core.reference import reference_data_load
    from dajiuzhu.core.roles import Role
    from dajiuzhu.core.services import user_create
    from dajiuzhu.registry.models import Person
    from dajiuzhu.registry.selectors import person_lookup
    from dajiuzhu.registry.services import hukou_sync

    reference_data_load()
    data = rows(args.persons)

    # Baseline: a bare COPY of the same clear rows into an unindexed table.
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bare (id_number text, name text, sex text, birth date, "
            "household text, relation text, division text)"
        )
        with cursor.cursor.copy("COPY bare FROM STDIN") as copy:
            for r in data:
                copy.write_row(
                    (
                        r.id_number,
                        r.name,
                        r.sex,
                        r.birth_date,
                        r.household_no,
                        r.relation,
                        r.division_code,
                    )
                )
        cursor.execute("DROP TABLE bare")
    bare = time.perf_counter() - t0

    t0 = time.perf_counter()
    counts = hukou_sync(rows=data, as_of=date(2023, 1, 1), source="bench")
    load = time.perf_counter() - t0
    assert Person.objects.count() == args.persons, counts

    t0 = time.perf_counter()
    hukou_sync(rows=data[: args.persons // 10], as_of=date(2023, 2, 1), source="bench-2")
    resync_10pct = time.perf_counter() - t0

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    user = user_create(
        actor=None,
        username="bench",
        password="x",  # noqa: S106 (throw-away benchmark user)
        role=Role.CASEWORKER,
        scope_code="320400",
        check_password=False,
    )
    sample = random.Random(7).sample(data, args.lookups)
    audited, index_only, by_pk = [], [], []
    pks = list(Person.objects.values_list("pk", flat=True)[: args.lookups])
    for r in sample:
        t = time.perf_counter()
        with transaction.atomic():
            person_lookup(user=user, id_number=r.id_number, purpose="verification")
        audited.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        Person.objects.filter(id_index=crypto.id_index(r.id_number)).first()
        index_only.append((time.perf_counter() - t) * 1000)
    for pk in pks:
        t = time.perf_counter()
        Person.objects.filter(pk=pk).first()
        by_pk.append((time.perf_counter() - t) * 1000)

    emit(
        {
            "benchmark": "registry_bulk",
            "persons": args.persons,
            "load_seconds": round(load, 1),
            "baseline_bare_copy_seconds": round(bare, 1),
            "load_vs_bare_copy": round(load / bare, 1),
            "resync_10pct_seconds": round(resync_10pct, 1),
            "lookup_audited_ms": {
                "p50": round(percentile(audited, 0.5), 2),
                "p95": round(percentile(audited, 0.95), 2),
                "p99": round(percentile(audited, 0.99), 2),
            },
            "lookup_index_only_ms_p95": round(percentile(index_only, 0.95), 2),
            "baseline_pk_fetch_ms_p95": round(percentile(by_pk, 0.95), 2),
            "lookup_audited_vs_pk_p95": round(
                percentile(audited, 0.95) / percentile(by_pk, 0.95), 1
            ),
            "peak_rss_mib": round(peak_rss_mib()),
            "counts": vars(counts),
        }
    )


if __name__ == "__main__":
    main()
