"""Benchmark of the synthetic-population generator.

    .venv/bin/python benchmarks/synth_bench.py [--persons 5000000] [--seed 1] [--year 2023]
        [--fmt parquet] [--out DIR] [--keep] [--check]

Generation runs in a child process so that its peak RSS is measured cleanly
(getrusage(RUSAGE_CHILDREN)); the output goes to a temporary directory under /tmp that is
deleted afterwards unless --keep or --out is given. Prints one JSON line: persons, rows per
dataset, seconds (generation, as reported by generate), wall_seconds (the child process),
peak_rss_mib and, with --check, the DuckDB calibration figures of the written files.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _child(args: argparse.Namespace) -> int:
    from dajiuzhu.synth.generator import generate

    summary = generate(
        persons=args.persons, seed=args.seed, year=args.year, out_dir=Path(args.out), fmt=args.fmt
    )
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--year", type=int, default=2023)
    parser.add_argument("--fmt", default="parquet", choices=["parquet", "csv", "xlsx"])
    parser.add_argument("--out", help="output directory (kept); default: a temporary one")
    parser.add_argument("--keep", action="store_true", help="keep the temporary output")
    parser.add_argument("--check", action="store_true", help="add the calibration figures")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args)

    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="synth-bench-", dir="/tmp"))
    cmd = [
        sys.executable,
        __file__,
        "--child",
        "--persons",
        str(args.persons),
        "--seed",
        str(args.seed),
        "--year",
        str(args.year),
        "--fmt",
        args.fmt,
        "--out",
        str(out),
    ]
    try:
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
            return proc.returncode
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
        result = {
            "persons": summary["persons"],
            "households": summary["households"],
            "format": args.fmt,
            "seconds": summary["seconds"],
            "wall_seconds": round(wall, 3),
            "peak_rss_mib": round(peak_kib / 1024, 1),
            "rows": summary["rows"],
            "total_rows": sum(summary["rows"].values()),
            "output_mib": round(sum(p.stat().st_size for p in out.iterdir()) / 2**20, 1),
        }
        if args.fmt == "parquet":
            # Baseline in the same run: DuckDB copying the generated files (read + write the
            # same rows, nothing generated) — the I/O floor of writing this much data.
            import duckdb

            con = duckdb.connect(config={"threads": 2, "preserve_insertion_order": False})
            t1 = time.perf_counter()
            for path in sorted(out.glob("*.parquet")):
                con.execute(
                    f"COPY (SELECT * FROM read_parquet('{path}')) TO "
                    f"'{path.with_suffix('.copy')}' (FORMAT parquet)"
                )
                path.with_suffix(".copy").unlink()
            result["baseline_copy_seconds"] = round(time.perf_counter() - t1, 1)
            result["ratio_vs_copy"] = round(summary["seconds"] / result["baseline_copy_seconds"], 2)
        if args.check:
            from dajiuzhu.synth.calibration import measure

            result["calibration"] = measure(out, args.year)
        print(json.dumps(result, ensure_ascii=False))
        return 0
    finally:
        if not args.out and not args.keep:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
