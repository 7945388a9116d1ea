"""The monthly fund checks against a bare DuckDB join (issue 15).

Claims: all seven checks for one month over the 5,000,000-person synthetic city (about 150,000
payments a month) take at most 2 x a bare DuckDB join of that month's payments with deaths and
vehicles over the same Parquet files, measured in the same run; peak memory <= 4 GiB. The Spark
path gives identical findings at 1,000,000 persons on ``local[2]``.

The lake is built once (synthetic city -> `dajiuzhu ingest` of the seven datasets the checks
read -> `dajiuzhu lake optimize`, as the worker leaves it) into a home under /tmp and reused;
delete it at the end:

    .venv/bin/python benchmarks/supervision_check.py build --persons 5000000 --home /tmp/djz-s5m
    .venv/bin/python benchmarks/supervision_check.py measure --home /tmp/djz-s5m
    .venv/bin/python benchmarks/supervision_check.py build --persons 1000000 --home /tmp/djz-s1m
    .venv/bin/python benchmarks/supervision_check.py spark --home /tmp/djz-s1m
    rm -rf /tmp/djz-s5m /tmp/djz-s1m

`measure` runs, in one process, alternately the baseline and `check_run` (all seven checks
computed on the lake and recorded, as `dajiuzhu supervision check --month M` does): the first
run records every finding, the `--repeat` further runs find them unchanged. Python modules are
loaded before timing (as in the long-running worker that runs the monthly check). Each run's
ratio is its time over the mean of the baselines just before and after it; the household
lookup every household check needs (payees' 户籍 households, then their members) is timed alone
in bare SQL as the floor. `spark` computes
the seven checks on DuckDB and on Spark (`local[2]`) and compares the findings one by one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, ingest_lake, peak_rss_mib

YEAR = 2024
MONTH = f"{YEAR}-12"
DATASETS = (
    "hukou",
    "deaths",
    "vehicles",
    "real_estate",
    "businesses",
    "assistance_recipients",
    "assistance_payments",
)


def build(args: argparse.Namespace) -> None:
    home = Path(args.home)
    source = home / "source"
    home.mkdir(parents=True, exist_ok=True)
    result: dict = {"benchmark": "supervision_check.build", "persons": args.persons}
    if not (source / "assistance_payments.parquet").exists():
        from dajiuzhu.synth.generator import generate

        started = time.perf_counter()
        summary = generate(persons=args.persons, seed=args.seed, year=YEAR, out_dir=source)
        result["generate_seconds"] = round(time.perf_counter() - started, 1)
        result["rows"] = {d: summary["rows"].get(d) for d in DATASETS}
    result["ingest_seconds"], result["optimize_seconds"] = ingest_lake(home, source, DATASETS)
    emit(result)


def _setup(home: str) -> None:
    os.environ["DAJIUZHU_HOME"] = home
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "dajiuzhu.settings"
    import django

    django.setup()


def baseline(month: str) -> tuple[float, int]:
    """The bare join: the month's payments with deaths and vehicles, over the lake's files."""
    from dajiuzhu.exchange import lake

    def files(dataset: str) -> str:
        return lake.files_sql([f for b in lake.active_batches(dataset) for f in b.files])

    con = lake.connect(memory_limit=os.environ.get("DAJIUZHU_DUCKDB_MEMORY", "2GB"))
    try:
        started = time.perf_counter()
        table = con.sql(
            f"SELECT p.person_key, p.program_code, p.payment_id, p.amount, d.death_date, "
            f"v.vehicle_type FROM {files('assistance_payments')} p "
            f"LEFT JOIN {files('deaths')} d ON d.person_key = p.person_key "
            f"LEFT JOIN {files('vehicles')} v ON v.person_key = p.person_key "
            f"WHERE p.month = '{month}'"
        ).to_arrow_table()
        return time.perf_counter() - started, table.num_rows
    finally:
        con.close()


def household_floor(month: str) -> float:
    """What any household check must do at least, in bare SQL over the same files: find the
    month's payees' 户籍 households and those households' members in the city's 户籍 view."""
    from dajiuzhu.exchange import lake

    def files(dataset: str) -> str:
        return lake.files_sql([f for b in lake.active_batches(dataset) for f in b.files])

    con = lake.connect(memory_limit=os.environ.get("DAJIUZHU_DUCKDB_MEMORY", "2GB"))
    try:
        started = time.perf_counter()
        con.sql(
            f"WITH pay AS (SELECT DISTINCT person_key FROM {files('assistance_payments')} "
            f"WHERE month = '{month}'), "
            f"homes AS (SELECT h.household_no FROM {files('hukou')} h "
            "SEMI JOIN pay USING (person_key)) "
            f"SELECT h.household_no, h.person_key FROM {files('hukou')} h "
            "SEMI JOIN (SELECT DISTINCT household_no FROM homes) x USING (household_no)"
        ).to_arrow_table()
        return time.perf_counter() - started
    finally:
        con.close()


def warm_up(month: str) -> None:
    """Load what a long-running worker has loaded already (ibis and its DuckDB backend)."""
    from dajiuzhu.analytics import open_lake
    from dajiuzhu.supervision.running import has_payments

    with open_lake("duckdb") as lake:
        if not has_payments(lake, month):
            sys.exit(f"no payments for {month}: run `build` first")


def measure(args: argparse.Namespace) -> None:
    _setup(args.home)
    from dajiuzhu.exchange.models import Batch
    from dajiuzhu.supervision.models import CheckRun, Finding
    from dajiuzhu.supervision.running import check_run

    Finding.objects.all().delete()
    CheckRun.objects.all().delete()
    warm_up(args.month)
    persons = sum(b.accepted for b in Batch.objects.filter(dataset="hukou"))
    base, runs, seconds_list = [], [], []
    seconds, joined = baseline(args.month)
    base.append(seconds)
    for _ in range(args.repeat + 1):
        started = time.perf_counter()
        runs.append(check_run(month=args.month, engine="duckdb"))
        seconds_list.append(time.perf_counter() - started)
        seconds, joined = baseline(args.month)
        base.append(seconds)
    floor = [household_floor(args.month) for _ in range(3)]
    ratios = [s / ((base[i] + base[i + 1]) / 2) for i, s in enumerate(seconds_list)]
    first = {c["check"]: c.get("found") for c in runs[0].checks}
    again = sum(c.get("created", 0) + c.get("withdrawn", 0) for r in runs[1:] for c in r.checks)
    emit(
        {
            "benchmark": "supervision_check",
            "scale": {"persons": persons, "month": args.month, "payments": joined},
            "baseline_seconds": [round(x, 2) for x in base],
            "check_seconds": [round(x, 2) for x in seconds_list],
            "ratios": [round(x, 2) for x in ratios],
            "household_lookup_seconds": [round(x, 2) for x in floor],
            "household_lookup_ratio": round(statistics.median(floor) / statistics.median(base), 2),
            "first_run_ratio": round(ratios[0], 2),
            "rerun_ratio_median": round(statistics.median(ratios[1:]), 2) if ratios[1:] else None,
            "rerun_ratio_max": round(max(ratios[1:]), 2) if ratios[1:] else None,
            "findings": first,
            "changes_on_reruns": again,
            "load_average": os.getloadavg(),
            "peak_rss_mib": round(peak_rss_mib()),
        }
    )


def spark(args: argparse.Namespace) -> None:
    _setup(args.home)
    from dajiuzhu.analytics import open_lake
    from dajiuzhu.supervision.checks import CHECK_CODES
    from dajiuzhu.supervision.running import compute

    out: dict = {"benchmark": "supervision_check.spark", "month": args.month}
    found = {}
    for engine in ("duckdb", "spark"):
        started = time.perf_counter()
        with open_lake(engine) as lake:
            results = compute(lake, month=args.month, codes=list(CHECK_CODES))
        out[f"{engine}_seconds"] = round(time.perf_counter() - started, 1)
        found[engine] = {
            code: sorted((f.key, f.amount, f.division_code) for f in items)
            for code, items in results.items()
        }
    out["findings"] = {code: len(items) for code, items in found["duckdb"].items()}
    out["identical"] = found["duckdb"] == found["spark"]
    out["different_checks"] = [c for c in CHECK_CODES if found["duckdb"][c] != found["spark"][c]]
    out["peak_rss_mib"] = round(peak_rss_mib())
    emit(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("--persons", type=int, default=5_000_000)
    b.add_argument("--seed", type=int, default=1)
    b.add_argument("--home", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--home", required=True)
    m.add_argument("--month", default=MONTH)
    m.add_argument("--repeat", type=int, default=4, help="runs after the first")
    s = sub.add_parser("spark")
    s.add_argument("--home", required=True)
    s.add_argument("--month", default=MONTH)
    args = parser.parse_args()
    {"build": build, "measure": measure, "spark": spark}[args.command](args)


if __name__ == "__main__":
    main()
