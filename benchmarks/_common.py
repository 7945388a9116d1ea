"""Shared helpers for benchmarks: machine description, peak memory, result lines."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import tempfile
from datetime import UTC, datetime


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    python = platform.python_version()
    return f"{platform.system()} {os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Python {python}"


def peak_rss_mib() -> float:
    """Peak resident set size of this process and its waited-for children, in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def emit(result: dict) -> None:
    result.setdefault("date", datetime.now(UTC).strftime("%Y-%m-%d"))
    result.setdefault("machine", machine())
    print(json.dumps(result, ensure_ascii=False), flush=True)


def fresh_postgres_database(
    name: str, base_url: str = "postgres://postgres@127.0.0.1:5432/"
) -> str:
    subprocess.run(
        ["psql", base_url + "postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True
    )
    subprocess.run(["psql", base_url + "postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    return base_url + name


def fresh_home() -> str:
    return tempfile.mkdtemp(prefix="djz-bench-")


def ingest_lake(home, source, datasets) -> tuple[dict[str, float], float]:
    """Ingest ``source/<dataset>.parquet`` for each dataset into the SQLite home at ``home``
    through `dajiuzhu ingest` (skipping those a marker says are in), then `lake optimize` as
    the worker does after publication. Returns the seconds per dataset and for the optimize."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    home, source = Path(home), Path(source)
    env = dict(os.environ, DAJIUZHU_HOME=str(home))
    env.pop("DATABASE_URL", None)

    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "dajiuzhu.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            sys.exit(f"{' '.join(args[:2])} failed: {done.stderr[-2000:]}")
        return done.stdout

    seconds = {}
    for dataset in datasets:
        marker = home / f".ingested-{dataset}"
        if marker.exists():
            continue
        started = time.perf_counter()
        out = run("ingest", dataset, str(source / f"{dataset}.parquet"))
        seconds[dataset] = round(time.perf_counter() - started, 1)
        marker.write_text(out.strip().splitlines()[-1])
        print(f"{dataset}: {marker.read_text()}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    run("lake", "optimize")
    return seconds, round(time.perf_counter() - started, 1)
