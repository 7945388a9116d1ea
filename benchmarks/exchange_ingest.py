"""Ingestion throughput and memory (issue: data exchange hub).

Claims: ingesting `medical_claims` with all checks and pseudonymisation at >= 1,000,000 rows/s
from Parquet and >= 500,000 rows/s from CSV on this 2-core machine, peak memory <= 2 GiB
whatever the file's size; API push of 1,000 rows p99 <= 300 ms.

Baseline measured in the same run: a bare DuckDB copy of the same file to Parquet (read and
write, no checks, no pseudonymisation) — the floor any ingestion pays.

    .venv/bin/python benchmarks/exchange_ingest.py --synth /tmp/city5m [--csv-persons 1000000]
        [--pushes 200]

`--synth` is a folder written by `dajiuzhu synth` (it is generated when missing). Each ingest
runs `dajiuzhu ingest` in a child process of a fresh home, so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, percentile

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"


def run(cmd: list[str], home: Path) -> tuple[dict, float, float]:
    env = {**os.environ, "DAJIUZHU_HOME": str(home)}
    env.pop("DATABASE_URL", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    line = out.stdout.strip().splitlines()[-1]
    return json.loads(line), wall, max(peak, before) / 1024


def bare_copy(src: Path, reader: str) -> float:
    import duckdb

    con = duckdb.connect(
        config={"threads": 2, "memory_limit": "1GB", "preserve_insertion_order": False}
    )
    out = Path(tempfile.mkdtemp()) / "copy.parquet"
    t0 = time.perf_counter()
    con.execute(
        f"COPY (SELECT * FROM {reader}('{src}')) TO '{out}' (FORMAT parquet, COMPRESSION zstd)"
    )
    seconds = time.perf_counter() - t0
    out.unlink()
    return seconds


def ingest_claims(src: Path, label: str) -> dict:
    home = Path(tempfile.mkdtemp(prefix=f"djz-ingest-{label}-"))
    subprocess.run(
        [str(BIN / "dajiuzhu"), "init"],
        env={**os.environ, "DAJIUZHU_HOME": str(home)},
        check=True,
        capture_output=True,
    )
    summary, wall, peak = run([str(BIN / "dajiuzhu"), "ingest", "medical_claims", str(src)], home)
    reader = "read_parquet" if src.suffix == ".parquet" else "read_csv"
    bare = bare_copy(src, reader)
    return {
        "format": label,
        "rows": summary["rows"],
        "accepted": summary["accepted"],
        "rejected": summary["rejected"],
        "seconds": summary["seconds"],
        "rows_per_second": round(summary["rows"] / summary["seconds"]),
        "process_wall_seconds": round(wall, 1),
        "peak_rss_mib": round(peak),
        "baseline_bare_copy_seconds": round(bare, 1),
        "ratio_vs_bare_copy": round(summary["seconds"] / bare, 2),
        "home": str(home),
    }


def push_latency(home: Path, pushes: int, port: int = 8765) -> dict:
    """p50/p95/p99 of POST /api/v1/exchange/medical_claims/rows with 1,000 rows, through
    gunicorn, against the home's loaded lake."""
    env = {**os.environ, "DAJIUZHU_HOME": str(home), "DAJIUZHU_PORT": str(port)}
    env.pop("DATABASE_URL", None)
    token = json.loads(
        subprocess.run(
            [str(BIN / "dajiuzhu"), "token", "--department", "yibao"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )["token"]
    server = subprocess.Popen(
        [str(BIN / "dajiuzhu"), "serve", "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(60):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        sys.path.insert(0, str(ROOT / "src"))
        from dajiuzhu.core.idnumber import make_id_number

        latencies = []
        from datetime import date

        for n in range(pushes):
            rows = [
                {
                    "claim_id": f"P{n:05d}{i:05d}",
                    "id_number": make_id_number(
                        "320402", date(1960 + i % 40, 1 + i % 12, 1 + i % 28), i % 1000
                    ),
                    "settlement_date": "2023-12-20",
                    "claim_type": "outpatient",
                    "total_cost": "300.00",
                    "fund_paid": "200.00",
                    "critical_illness_paid": "0",
                    "assistance_paid": "0",
                    "out_of_pocket": "100.00",
                    "in_policy_out_of_pocket": "80.00",
                    "hospital_code": "H0001",
                }
                for i in range(1000)
            ]
            body = json.dumps({"rows": rows}).encode()
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/exchange/medical_claims/rows",
                data=body,
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            )
            t0 = time.perf_counter()
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                result = json.loads(response.read())
            latencies.append((time.perf_counter() - t0) * 1000)
            assert result["accepted"] == 1000, result
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    return {
        "pushes": pushes,
        "rows_per_push": 1000,
        "p50_ms": round(percentile(latencies, 0.5)),
        "p95_ms": round(percentile(latencies, 0.95)),
        "p99_ms": round(percentile(latencies, 0.99)),
        "max_ms": round(max(latencies)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--synth", default="/tmp/city5m")
    parser.add_argument("--persons", type=int, default=5_000_000)
    parser.add_argument("--csv-persons", type=int, default=1_000_000)
    parser.add_argument("--pushes", type=int, default=200)
    parser.add_argument("--skip-csv", action="store_true")
    args = parser.parse_args()
    synth = Path(args.synth)
    if not (synth / "medical_claims.parquet").exists():
        subprocess.run(
            [str(BIN / "dajiuzhu"), "synth", "--persons", str(args.persons), "--out", str(synth)],
            check=True,
        )
    parquet = ingest_claims(synth / "medical_claims.parquet", "parquet")
    emit({"benchmark": "exchange_ingest", "persons": args.persons, **parquet})
    if not args.skip_csv:
        csv_dir = Path(f"/tmp/city-csv-{args.csv_persons}")
        if not (csv_dir / "medical_claims.csv").exists():
            subprocess.run(
                [
                    str(BIN / "dajiuzhu"),
                    "synth",
                    "--persons",
                    str(args.csv_persons),
                    "--format",
                    "csv",
                    "--out",
                    str(csv_dir),
                ],
                check=True,
            )
        csv = ingest_claims(csv_dir / "medical_claims.csv", "csv")
        emit({"benchmark": "exchange_ingest", "persons": args.csv_persons, **csv})
    emit(
        {
            "benchmark": "exchange_push",
            "lake_rows": parquet["accepted"],
            **push_latency(Path(parquet["home"]), args.pushes),
        }
    )


if __name__ == "__main__":
    main()
