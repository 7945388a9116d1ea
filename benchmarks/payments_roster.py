"""The monthly roster at scale (issue 13): for N approved recipients on PostgreSQL, build the
month's rosters, release them (a second person), publish them into the lake (payments and the
approvals behind them), and write the bank file (XLSX, the default template).

Claim: 60,000 recipients built, exported and published in <= 30 s on PostgreSQL.

Baseline measured in the same run: the bare SQL floor of the same work — one
``INSERT … SELECT`` of a payment row per approved case into an unindexed table, and one DuckDB
``COPY`` of those rows to Parquet.

    .venv/bin/python benchmarks/payments_roster.py --recipients 60000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, fresh_home, fresh_postgres_database, peak_rss_mib


def _hukou_rows(n: int):
    from dajiuzhu.core.idnumber import make_id_number
    from dajiuzhu.core.reference import division_rows
    from dajiuzhu.registry.bulk import HukouRow

    towns = [r["code"] for r in division_rows() if r["level"] == "town"]
    start = date(1940, 1, 1)
    out = []
    for i in range(n):
        birth = start + timedelta(days=i % 20000)
        town = towns[i % len(towns)]
        out.append(
            HukouRow(
                id_number=make_id_number(town[:6], birth, (i // 20000) % 1000),
                name=f"测试{i % 9973}",
                sex="M" if i % 2 else "F",
                birth_date=birth,
                household_no=f"H{i:08d}",
                relation="head",
                division_code=f"{town}{i % 20 + 1:03d}",
                address="",
                status="normal",
            )
        )
    return out


def _approved_cases() -> int:
    from dajiuzhu.cases.models import Application, Case, CaseStatus, Channel
    from dajiuzhu.registry.models import Membership

    amounts = [Decimal(a) for a in ("535.00", "820.00", "1070.00", "1284.00", "1605.00")]
    memberships = list(
        Membership.objects.select_related("household__division").values_list(
            "person_id", "household_id", "household__division__parent_id"
        )
    )
    submitted = datetime(2023, 11, 1, 2, tzinfo=UTC)
    apps = [
        Application(
            application_no=f"B{i:09d}",
            household_id=household,
            applicant_id=person,
            channel=Channel.WINDOW,
            accepted_division_id=town,
            town_id=town,
            submitted_at=submitted,
        )
        for i, (person, household, town) in enumerate(memberships)
    ]
    Application.objects.bulk_create(apps, batch_size=5000)
    apps = list(Application.objects.values_list("id", "household_id", "town_id"))
    Case.objects.bulk_create(
        [
            Case(
                application_id=app,
                household_id=household,
                programme="tekun" if i % 10 == 9 else "dibao",
                department_id="minzheng",
                decision_level="district",
                workflow="statutory",
                town_id=town,
                status=CaseStatus.APPROVED,
                accepted_on=date(2023, 11, 1),
                due_on=date(2023, 12, 15),
                amount=amounts[i % len(amounts)],
                proposed_amount=amounts[i % len(amounts)],
                start_month="2024-01",
                decided_on=date(2023, 12, 10),
            )
            for i, (app, household, town) in enumerate(apps)
        ],
        batch_size=5000,
    )
    return len(apps)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=60_000)
    parser.add_argument("--month", default="2024-01")
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = fresh_postgres_database("dajiuzhu_bench_pay")
    home = fresh_home()
    os.environ["DAJIUZHU_HOME"] = home
    os.environ["DJANGO_SETTINGS_MODULE"] = "dajiuzhu.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    from dajiuzhu.core.reference import reference_data_load
    from dajiuzhu.core.roles import Role
    from dajiuzhu.core.services import user_create
    from dajiuzhu.exchange import lake
    from dajiuzhu.payments import bank
    from dajiuzhu.payments.models import Payment, Roster
    from dajiuzhu.payments.publication import roster_publish
    from dajiuzhu.payments.services import roster_build, roster_release
    from dajiuzhu.registry.services import hukou_sync

    reference_data_load()
    hukou_sync(rows=_hukou_rows(args.recipients), as_of=date(2023, 1, 1), source="bench")
    cases = _approved_cases()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    def user(name, role):
        return user_create(
            actor=None,
            username=name,
            password="x",  # noqa: S106 (throw-away benchmark user)
            role=role,
            scope_code="320400",
            check_password=False,
        )

    preparer, approver = user("cw", Role.CASEWORKER), user("ap", Role.APPROVER)

    # Baseline: the bare SQL and Parquet floor of one payment row per approved case.
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bare AS SELECT c.id, a.applicant_id, c.programme, c.amount "
            "FROM cases_case c JOIN cases_application a ON a.id = c.application_id"
        )
        cursor.execute("SELECT id, applicant_id, programme, amount FROM bare")
        fetched = cursor.fetchall()
        cursor.execute("DROP TABLE bare")
    con = lake.connect()
    import pyarrow as pa

    table = pa.table(
        {
            "id": [r[0] for r in fetched],
            "person": [r[1] for r in fetched],
            "programme": [r[2] for r in fetched],
            "amount": [str(r[3]) for r in fetched],
        }
    )
    con.register("arrow_rows", table)
    con.execute(f"COPY (SELECT * FROM arrow_rows) TO '{home}/bare.parquet' (FORMAT parquet)")
    con.close()
    bare = time.perf_counter() - t0

    def cycle(month: str) -> tuple[dict, float, int]:
        timings = {}
        t0 = time.perf_counter()
        summary = roster_build(actor=preparer, month=month)
        timings["build"] = time.perf_counter() - t0
        t = time.perf_counter()
        rosters = list(Roster.objects.filter(month=month))
        for roster in rosters:
            roster_release(actor=approver, roster_id=roster.pk)
        timings["release"] = time.perf_counter() - t
        t = time.perf_counter()
        for roster in rosters:
            roster_publish(roster_id=roster.pk)
        timings["publish"] = time.perf_counter() - t
        t = time.perf_counter()
        made = bank.bank_file(actor=approver, month=month)
        bank.write_private(Path(home) / f"bank-{month}.xlsx", made.content)
        timings["export_xlsx"] = time.perf_counter() - t
        total = time.perf_counter() - t0
        t = time.perf_counter()
        rebuild = roster_build(actor=preparer, month=month)
        timings["build_again_no_change"] = time.perf_counter() - t
        assert summary.lines_added == cases == made.lines, (cases, made.lines)
        assert rebuild.lines_added == 0 and rebuild.rosters_created == 0
        return timings, total, len(rosters)

    first_timings, first_total, rosters = cycle(args.month)
    nxt = f"{args.month[:4]}-{int(args.month[5:]) + 1:02d}"
    steady_timings, steady_total, _ = cycle(nxt)
    assert Payment.objects.count() == 2 * cases

    emit(
        {
            "benchmark": "payments_roster",
            "database": "postgresql",
            "recipients": cases,
            "rosters_per_month": rosters,
            "first_month": {
                "note": "every approval published for the first time",
                "seconds": {k: round(v, 2) for k, v in first_timings.items()},
                "built_released_published_exported_seconds": round(first_total, 2),
                "ratio_vs_baseline": round(first_total / bare, 1),
            },
            "next_month": {
                "note": "steady state: payments published, approvals unchanged",
                "seconds": {k: round(v, 2) for k, v in steady_timings.items()},
                "built_released_published_exported_seconds": round(steady_total, 2),
                "ratio_vs_baseline": round(steady_total / bare, 1),
            },
            "baseline_bare_sql_and_parquet_seconds": round(bare, 2),
            "peak_rss_mib": round(peak_rss_mib()),
        }
    )


if __name__ == "__main__":
    main()
