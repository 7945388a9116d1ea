"""Early-warning full scan against a bare DuckDB aggregation (issue 5).

Claim: the full scan over 5,000,000 persons (about 60 million claim lines) takes at most
2 x a bare DuckDB aggregation of the year's out-of-pocket per person over the same Parquet
files, measured in the same run; peak memory <= 4 GiB.

The lake is built once (synthetic city -> `dajiuzhu ingest` -> `dajiuzhu lake optimize`, as the
worker leaves it; a while at 5M) into a home under /tmp and reused between runs; delete it at the
end:

    .venv/bin/python benchmarks/warnings_scan.py build --persons 5000000 --home /tmp/djz-w5m
    .venv/bin/python benchmarks/warnings_scan.py measure --home /tmp/djz-w5m
    rm -rf /tmp/djz-w5m

`measure` runs, in one process, alternately: the baseline and the full scan (all six rules,
computed and recorded: `services.scan_run`, as `dajiuzhu scan` does). The first scan creates
every warning; then the warnings are deleted and the second scan creates them again in a
process that has scanned before; the `--repeat` further scans find them unchanged. The Python
modules are loaded before timing (as in the long-running worker that runs the nightly scan).
It prints one JSON line; each scan's ratio is its time over the mean of the baselines measured
just before and after it.
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
DATASETS = (
    "hukou",
    "deaths",
    "disability_certificates",
    "insured_persons",
    "medical_claims",
    "wages",
    "traffic_accidents",
    "incidents",
    "assistance_recipients",
    "disposable_income",
)


def build(args: argparse.Namespace) -> None:
    home = Path(args.home)
    source = home / "source"
    home.mkdir(parents=True, exist_ok=True)
    result: dict = {"benchmark": "warnings_scan.build", "persons": args.persons, "home": str(home)}
    if not (source / "medical_claims.parquet").exists():
        from dajiuzhu.synth.generator import generate

        started = time.perf_counter()
        summary = generate(persons=args.persons, seed=args.seed, year=args.year, out_dir=source)
        result["generate_seconds"] = round(time.perf_counter() - started, 1)
        result["rows"] = summary["rows"]
    result["ingest_seconds"], result["optimize_seconds"] = ingest_lake(home, source, DATASETS)
    emit(result)


def _setup(home: str) -> None:
    os.environ["DAJIUZHU_HOME"] = home
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "dajiuzhu.settings"
    import django

    django.setup()


def baseline(year: int) -> tuple[float, int]:
    """The bare aggregation: the year's out-of-pocket per person over the lake's claim files."""
    from dajiuzhu.exchange import lake

    files = [f for b in lake.active_batches("medical_claims") for f in b.files]
    con = lake.connect(memory_limit=os.environ.get("DAJIUZHU_DUCKDB_MEMORY", "2GB"))
    try:
        started = time.perf_counter()
        table = con.sql(
            f"SELECT person_key, sum(out_of_pocket) AS out_of_pocket FROM {lake.files_sql(files)} "
            f"WHERE settlement_date BETWEEN DATE '{year}-01-01' AND DATE '{year}-12-31' "
            "GROUP BY person_key"
        ).to_arrow_table()
        return time.perf_counter() - started, table.num_rows
    finally:
        con.close()


def warm_up() -> None:
    """Load the Python modules a long-running worker has loaded already (ibis, its DuckDB
    backend, pandas) and initialise Arrow's IPC reader (a third of a second, once per
    process): the figure is the scan's work, not the interpreter's start-up. The summary files
    are opened here without the per-process cache, so the first scan still reads them."""
    from dajiuzhu.analytics import open_lake, summaries

    with open_lake("duckdb") as lake:
        lake.to_rows(lake.table("disposable_income").limit(1))
        for name in summaries.SUMMARIES:
            path = lake.summary_file(name)
            if path is None:
                sys.exit(f"summary {name} missing: run `dajiuzhu lake optimize` (build does)")
            summaries.open_file(path)


def measure(args: argparse.Namespace) -> None:
    _setup(args.home)
    from dajiuzhu.exchange.models import Batch
    from dajiuzhu.warnings import services
    from dajiuzhu.warnings.models import ScanRun, Warning

    Warning.objects.all().delete()
    ScanRun.objects.all().delete()
    warm_up()
    claims = sum(b.accepted for b in Batch.objects.filter(dataset="medical_claims"))
    persons = sum(b.accepted for b in Batch.objects.filter(dataset="hukou"))
    # baseline, scan, baseline, scan, …, baseline: each scan is compared with the mean of the
    # baselines just before and after it (other work on a shared machine drifts slowly).
    base, scans, runs = [], [], []
    groups = 0
    seconds, groups = baseline(args.year)
    base.append(seconds)
    # scan 1: the first scan in this process, recording every warning; scan 2: the same again
    # once the warnings are deleted (a worker that has scanned before meets a new year); the
    # rest: re-scans that find every warning unchanged (the nightly scan).
    for n in range(args.repeat + 2):
        if n == 1:
            Warning.objects.all().delete()
        started = time.perf_counter()
        runs.append(services.scan_run(year=args.year, engine="duckdb"))
        scans.append(time.perf_counter() - started)
        seconds, groups = baseline(args.year)
        base.append(seconds)
    ratios = [s / ((base[i] + base[i + 1]) / 2) for i, s in enumerate(scans)]
    found = {s["rule"]: s["found"] for s in runs[0].rules}
    created = [sum(s["created"] for s in run.rules) for run in runs[:2]]
    again = sum(s["created"] + s["updated"] + s["withdrawn"] for r in runs[2:] for s in r.rules)
    emit(
        {
            "benchmark": "warnings_scan",
            "scale": {"persons": persons, "claim_lines": claims, "year": args.year},
            "baseline_seconds": [round(x, 2) for x in base],
            "scan_seconds": [round(x, 2) for x in scans],
            "scan_compute_seconds": [round(r.run.compute_seconds, 2) for r in runs],
            "ratios": [round(x, 2) for x in ratios],
            "first_scan_cold_process_ratio": round(ratios[0], 2),
            "first_scan_warm_process_ratio": round(ratios[1], 2),
            "rescan_ratio_median": round(statistics.median(ratios[2:]), 2),
            "rescan_ratio_max": round(max(ratios[2:]), 2),
            "baseline_groups": groups,
            "warnings_found": found,
            "warnings_created_by_first_scans": created,
            "changes_on_rescans": again,
            "load_average": os.getloadavg(),
            "peak_rss_mib": round(peak_rss_mib()),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("build")
    p.add_argument("--persons", type=int, default=5_000_000)
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument("--year", type=int, default=YEAR)
    p.add_argument("--home", required=True)
    p = sub.add_parser("measure")
    p.add_argument("--home", required=True)
    p.add_argument("--year", type=int, default=YEAR)
    p.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    build(args) if args.mode == "build" else measure(args)


if __name__ == "__main__":
    main()
