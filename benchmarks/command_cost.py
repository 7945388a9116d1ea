"""A command's fixed cost, and the whole `dajiuzhu scan` process against the bare aggregation
(issue 10, "Figures").

Claims:
* `dajiuzhu scan --year Y` on a city of a few hundred people takes ≤ 1 s (wall clock, the
  whole process: interpreter, imports, Django, the scan, recording the warnings);
* over a 1,000,000-person lake the whole `dajiuzhu scan` process takes ≤ 2 × a bare DuckDB
  aggregation of the year's out-of-pocket per person over the same files, measured in the same
  run.

Both are tried as a new user would: `dajiuzhu synth` → `dajiuzhu ingest` of every file it wrote
(户籍 first) → `dajiuzhu scan`. No worker runs, so the lake is as ingestion leaves it (no batch
sorted by person, no lake summaries written).

    .venv/bin/python benchmarks/command_cost.py --persons 300            # the fixed cost
    .venv/bin/python benchmarks/command_cost.py --persons 1000000 --home /tmp/djz-c1m --keep

The home (SQLite database + lake, under a temporary folder unless `--home`) is built once and
reused when `--home` names one that is built; `--keep` leaves a temporary home in place.
`--src DIR` runs the scans with another version's source tree first on the path (e.g. `git
archive <commit> src | tar -x -C /tmp/old`, then `--src /tmp/old/src`), for a before/after
on the same lake. The bare aggregation is also run three times as a process of its own
(`python -c`: interpreter, `import duckdb`, the query, the exit), and the median re-scan is
compared with it too. `measure` then runs,
alternately, the baseline (in this process: DuckDB over the claim batch files, the result
materialised as Arrow) and the scan as a child process (`dajiuzhu scan --year Y`, wall clock and
CPU), with the modules compiled to `__pycache__` first as an installation leaves them: the first
scan records the warnings (the home's warnings are deleted before, so it is a first scan also in
a reused home), the others find them unchanged. Each scan's ratio is its time over the mean of
the baselines just before and after it. One more scan runs under `python -X importtime` and the
modules it imported are summed (that run is not timed). It prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, peak_rss_mib

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
YEAR = 2023
FIRST = ("hukou",)  # it feeds the registry the other datasets are checked against


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(argv[:3])} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done


def build(home: Path, persons: int, year: int, env: dict[str, str]) -> dict:
    """synth → ingest every file (户籍 first), each a `dajiuzhu` process as a user runs it."""
    source = home / "source"
    started = time.perf_counter()
    argv = [str(BIN / "dajiuzhu"), "synth", "--persons", str(persons), "--seed", "1"]
    run([*argv, "--year", str(year), "--out", str(source)], env)
    synth_seconds = time.perf_counter() - started
    files = sorted(source.glob("*.parquet"), key=lambda p: (p.stem not in FIRST, p.stem))
    ingest = {}
    for path in files:
        started = time.perf_counter()
        run([str(BIN / "dajiuzhu"), "ingest", path.stem, str(path)], env)
        ingest[path.stem] = round(time.perf_counter() - started, 2)
    (home / "built").write_text(json.dumps({"persons": persons, "year": year}))
    return {"synth_seconds": round(synth_seconds, 1), "ingest_seconds": ingest}


def claim_files(home: Path) -> list[str]:
    return sorted(str(p) for p in (home / "lake" / "medical_claims").glob("batch=*/*.parquet"))


def baseline(files: list[str], year: int) -> tuple[float, int]:
    """The bare aggregation: the year's out-of-pocket per person over the claim batch files."""
    import duckdb

    con = duckdb.connect(config={"memory_limit": os.environ.get("DAJIUZHU_DUCKDB_MEMORY", "2GB")})
    try:
        listing = ", ".join(f"'{f}'" for f in files)
        started = time.perf_counter()
        table = con.sql(
            "SELECT person_key, sum(out_of_pocket) AS out_of_pocket "
            f"FROM read_parquet([{listing}]) "
            f"WHERE settlement_date BETWEEN DATE '{year}-01-01' AND DATE '{year}-12-31' "
            "GROUP BY person_key"
        ).to_arrow_table()
        return time.perf_counter() - started, table.num_rows
    finally:
        con.close()


BARE_PROCESS = """
import sys, duckdb
files, year = sys.argv[1].split("\\n"), sys.argv[2]
listing = ", ".join(f"'{f}'" for f in files)
duckdb.connect().sql(
    "SELECT person_key, sum(out_of_pocket) AS out_of_pocket "
    f"FROM read_parquet([{listing}]) "
    f"WHERE settlement_date BETWEEN DATE '{year}-01-01' AND DATE '{year}-12-31' "
    "GROUP BY person_key"
).to_arrow_table()
"""


def baseline_process(files: list[str], year: int, env: dict[str, str]) -> float:
    """The same aggregation as a process of its own (interpreter, `import duckdb`, the query,
    the exit): what a user typing a one-off DuckDB query pays, beside the in-process figure."""
    started = time.perf_counter()
    run([str(BIN / "python"), "-c", BARE_PROCESS, "\n".join(files), str(year)], env)
    return time.perf_counter() - started


def scan(env: dict[str, str], year: int, program: list[str]) -> tuple[float, float, list[dict]]:
    """One `dajiuzhu scan` process: wall-clock seconds, CPU seconds, its JSON summaries."""
    before = os.times()
    started = time.perf_counter()
    done = run([*program, "scan", "--year", str(year)], env)
    wall = time.perf_counter() - started
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return wall, cpu, lines


def forget_warnings(env: dict[str, str]) -> None:
    """Delete the home's warnings and scan runs, so that the first timed scan is a first scan
    (a reused home has been scanned before)."""
    code = (
        "import django; django.setup();"
        "from dajiuzhu.warnings.models import ScanRun, Warning;"
        "Warning.objects.all().delete(); ScanRun.objects.all().delete()"
    )
    run([str(BIN / "python"), "-c", code], {**env, "DJANGO_SETTINGS_MODULE": "dajiuzhu.settings"})


def import_profile(env: dict[str, str], year: int, top: int = 12) -> dict:
    """The modules one scan imports (`python -X importtime`): their total, the largest."""
    argv = [str(BIN / "python"), "-X", "importtime", "-m", "dajiuzhu.cli", "scan"]
    done = run([*argv, "--year", str(year)], env)
    rows = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if match:
            rows.append((int(match[1]), int(match[2]), len(match[3]) // 2, match[4]))
    heavy = sorted((r for r in rows if r[2] == 0), key=lambda r: -r[1])[:top]
    return {
        "modules": len(rows),
        "seconds": round(sum(r[0] for r in rows) / 1e6, 3),
        "largest_top_level": {name: round(c / 1e6, 3) for _s, c, _d, name in heavy},
        "loaded": sorted(
            name
            for name in ("pandas", "pyarrow.compute", "ibis.backends.sql.compilers.snowflake")
            if any(r[3] == name for r in rows)
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=300)
    parser.add_argument("--year", type=int, default=YEAR)
    parser.add_argument("--home", help="build here (or reuse a built home); default: a temp dir")
    parser.add_argument("--keep", action="store_true", help="leave the home in place")
    parser.add_argument("--repeat", type=int, default=5, help="scans after the first")
    parser.add_argument(
        "--src", help="run the scans with this source tree first on the path (an older version)"
    )
    args = parser.parse_args()
    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="djz-cost-")) / "home"
    env = {**os.environ, "DAJIUZHU_HOME": str(home)}
    env.pop("DATABASE_URL", None)  # the embedded default a new user gets: SQLite in the home
    env.pop("DAJIUZHU_ENGINE", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    scan_env = {**env, "PYTHONPATH": str(Path(args.src).resolve())} if args.src else env
    # another version's tree is run as a module: its program may differ from ours
    program = [str(BIN / "python"), "-m", "dajiuzhu.cli"] if args.src else [str(BIN / "dajiuzhu")]
    result: dict = {"benchmark": "command_cost", "persons": args.persons, "year": args.year}
    if args.src:
        result["src"] = args.src
    try:
        if (home / "built").exists():
            result["built"] = json.loads((home / "built").read_text())
        else:
            home.mkdir(parents=True, exist_ok=True)
            result["build"] = build(home, args.persons, args.year, env)
        files = claim_files(home)
        source = Path(args.src) if args.src else ROOT / "src"
        # as installed: the modules compiled once to __pycache__ (not on every start)
        run([str(BIN / "python"), "-m", "compileall", "-q", str(source)], env)
        forget_warnings(scan_env)
        base, walls, cpus, runs = [], [], [], []
        seconds, groups = baseline(files, args.year)
        base.append(seconds)
        for _ in range(args.repeat + 1):
            wall, cpu, lines = scan(scan_env, args.year, program)
            walls.append(wall)
            cpus.append(cpu)
            runs.append(lines)
            base.append(baseline(files, args.year)[0])
        ratios = [w / ((base[i] + base[i + 1]) / 2) for i, w in enumerate(walls)]
        bare = [baseline_process(files, args.year, env) for _ in range(3)]
        result.update(
            {
                "claim_files": len(files),
                "baseline_groups": groups,
                "warnings_found": {s["rule"]: s.get("found") for s in runs[0]},
                "warnings_created_by_first_scan": sum(s.get("created", 0) for s in runs[0]),
                "first_scan_seconds": round(walls[0], 3),
                "rescan_seconds": [round(w, 3) for w in walls[1:]],
                "rescan_seconds_median": round(statistics.median(walls[1:]), 3)
                if walls[1:]
                else None,
                "scan_cpu_seconds": [round(c, 3) for c in cpus],
                "baseline_seconds": [round(b, 3) for b in base],
                "baseline_process_seconds": [round(b, 3) for b in bare],
                "rescan_to_baseline_process_ratio": round(
                    statistics.median(walls[1:] or walls) / statistics.median(bare), 2
                ),
                "first_scan_ratio": round(ratios[0], 2),
                "rescan_ratio_median": round(statistics.median(ratios[1:]), 2)
                if ratios[1:]
                else None,
                "imports": import_profile(scan_env, args.year),
                "load_average": os.getloadavg(),
                "peak_rss_mib": round(peak_rss_mib()),
            }
        )
    finally:
        if not args.keep and not args.home:
            shutil.rmtree(home.parent, ignore_errors=True)
    emit(result)


if __name__ == "__main__":
    main()
