"""The Spark path gives identical warnings (issue 5): the six rules' Ibis expressions on DuckDB
and on PySpark local[2], over the same lake, compared finding by finding.

Claim: for 1,000,000 persons the Spark path (local[2]) gives the same warnings as DuckDB.

    .venv/bin/python benchmarks/warnings_scan.py build --persons 1000000 --home /tmp/djz-w1m
    .venv/bin/python benchmarks/warnings_spark.py --home /tmp/djz-w1m [--no-summaries]

The build leaves the lake summaries the worker keeps (``analytics.summaries``); both engines
read them. ``--no-summaries`` makes both compute everything from the current views instead.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, peak_rss_mib

YEAR = 2024


def findings(engine: str, year: int) -> tuple[list[tuple], float]:
    from dajiuzhu.analytics import open_lake
    from dajiuzhu.warnings import scan

    started = time.perf_counter()
    with open_lake(engine) as lake:
        codes = scan.resolve_rules(None)
        params = scan.parameters(lake, year, codes)
        results = scan.compute(lake, year=year, codes=codes, params=params)
    seconds = time.perf_counter() - started
    rows = sorted(
        (
            f.rule,
            f.person_key,
            f.event_ref,
            f.event_date,
            f.amount,
            f.household_no,
            f.division_code,
            f.fingerprint,
        )
        for r in results
        for f in r.findings
    )
    return rows, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", required=True)
    parser.add_argument("--year", type=int, default=YEAR)
    parser.add_argument("--no-summaries", action="store_true")
    args = parser.parse_args()
    os.environ["DAJIUZHU_HOME"] = args.home
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "dajiuzhu.settings"
    import django

    django.setup()
    from dajiuzhu.analytics import spark
    from dajiuzhu.analytics.engine import Lake
    from dajiuzhu.exchange.models import Batch

    if args.no_summaries:
        Lake.summary_file = lambda self, name: None

    persons = sum(b.accepted for b in Batch.objects.filter(dataset="hukou"))
    claims = sum(b.accepted for b in Batch.objects.filter(dataset="medical_claims"))
    duck, duck_seconds = findings("duckdb", args.year)
    started = time.perf_counter()
    spark.session()
    startup = time.perf_counter() - started
    sparked, spark_seconds = findings("spark", args.year)
    spark.stop()
    by_rule: dict[str, int] = {}
    for row in duck:
        by_rule[row[0]] = by_rule.get(row[0], 0) + 1
    emit(
        {
            "benchmark": "warnings_spark",
            "scale": {"persons": persons, "claim_lines": claims, "year": args.year},
            "summaries": not args.no_summaries,
            "identical": duck == sparked,
            "findings": len(duck),
            "only_duckdb": len(set(duck) - set(sparked)),
            "only_spark": len(set(sparked) - set(duck)),
            "by_rule": by_rule,
            "duckdb_seconds": round(duck_seconds, 2),
            "spark_session_start_seconds": round(startup, 2),
            "spark_seconds": round(spark_seconds, 2),
            "spark_master": os.environ.get("DAJIUZHU_SPARK_MASTER", "local[2]"),
            "spark_driver_memory": os.environ.get("DAJIUZHU_SPARK_MEMORY", "2g"),
            "python_peak_rss_mib": round(peak_rss_mib()),
        }
    )


if __name__ == "__main__":
    main()
