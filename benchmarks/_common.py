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
