"""Load on the unified intake (issue 12), with locust through gunicorn on PostgreSQL.

Claims: with 1,000,000 persons in the registry and 100,000 cases, 50 concurrent users mixing
submissions, staff case pages and residents' status pages: p99 <= 200 ms for a submission,
<= 150 ms for a case page, <= 100 ms for a resident's status page; zero errors.

Set-up (not timed):
- a 1,000,000-person synthetic city loaded through the real ingestion path (PostgreSQL
  registry + lake, `_city.ensure_city`, reused when present), so that each submission's
  前置核对 runs the real household check against a real lake;
- 100,000 cases (one application and one case per household, in every state from accepted to
  approved or refused, with their steps and due dates), bulk-written;
- a pool of households without an open 临时救助 case whose adults each hold a signing code, as
  they would after `POST /api/v1/cases/signing-codes` sent one by SMS (the code's hash is what
  the platform stores; the benchmark knows the clear code);
- residents (log-in phone = the applicant's registered phone) and town caseworkers, each with
  a session, and a 民政 portal token.

Timed, by locust's users (``benchmarks/locust_cases.py``), each user waiting 1–3 s between
requests:
- ``submit``: ``POST /api/v1/cases/applications`` with the token (channel portal): the whole
  submission — signatures checked, 前置核对 run on the lake and its report attached, routed,
  the case and its steps written, audited;
- ``case page``: a caseworker's ``GET /work/cases/<id>/`` for a case of their town;
- ``status``: a resident's ``GET /portal/applications/<no>/`` of their own application;
- baseline, in the same run and mix: ``GET /healthz`` (gunicorn, Django's middleware and one
  database round trip, nothing of the intake).

Every response time is written by the locust process itself (not locust's rounded
histogram), and any non-2xx answer counts as an error.

    .venv/bin/pip install -e ".[bench]"
    .venv/bin/python benchmarks/cases_load.py [--persons 1000000] [--cases 100000]
        [--users 50] [--seconds 180] [--workers 2] [--threads 4]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _city import BIN, ROOT, ensure_city
from _common import emit, percentile

SIGNING_CODE = "246810"


def _wait_up(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 (loopback)
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"gunicorn did not answer at {url}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--pool", type=int, default=20_000, help="households able to submit")
    parser.add_argument("--residents", type=int, default=5_000)
    parser.add_argument("--towns", type=int, default=20, help="towns with a caseworker")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=180)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--src", help="serve this source tree (an older version) instead, on the same city"
    )
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--home", default="/tmp/djz-load-1m")
    parser.add_argument("--synth", default="/tmp/djz-synth-1m")
    parser.add_argument("--database", default="dajiuzhu_bench_load")
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()

    home = Path(args.home)
    env, load_seconds = ensure_city(
        persons=args.persons,
        synth=Path(args.synth),
        home=home,
        name=args.database,
        rebuild=args.rebuild,
    )
    env = dict(env, DAJIUZHU_INSECURE_HTTP="1", DAJIUZHU_OTP_MAX_SENDS_PER_IP="100000")
    fixture = home / "locust-fixture.json"
    prepared = home / "locust-prepared"
    if not prepared.exists():
        t0 = time.perf_counter()
        done = subprocess.run(
            [
                str(BIN / "python"),
                str(Path(__file__).with_name("_cases_fixture.py")),
                str(args.cases),
                str(args.pool),
                str(args.residents),
                str(args.towns),
                SIGNING_CODE,
                str(fixture),
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        prepared.write_text(done.stdout)
        print(f"prepared in {time.perf_counter() - t0:.0f} s: {done.stdout.strip()}", flush=True)
    counts = json.loads(prepared.read_text().strip().splitlines()[-1])

    server_env = {**env, "PYTHONPATH": str(Path(args.src).resolve())} if args.src else env
    server = subprocess.Popen(
        [
            str(BIN / "python"),
            "-m",
            "gunicorn",
            "dajiuzhu.wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--timeout",
            "120",
            "--keep-alive",
            "15",  # as `dajiuzhu serve`
        ],
        env=server_env,
        cwd=str(ROOT),
        start_new_session=True,
    )
    timings = home / f"locust-timings-{int(time.time())}.jsonl"
    pool_next = home / "locust-pool-next"  # households that submitted in earlier runs
    pool_start = int(pool_next.read_text()) if pool_next.exists() else 0
    try:
        _wait_up(f"http://127.0.0.1:{args.port}/healthz")
        ramp = max(1, args.users // 10)
        subprocess.run(
            [
                str(BIN / "locust"),
                "-f",
                str(Path(__file__).with_name("locust_cases.py")),
                "--headless",
                "--users",
                str(args.users),
                "--spawn-rate",
                str(ramp),
                "--run-time",
                f"{args.seconds}s",
                "--host",
                f"http://127.0.0.1:{args.port}",
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            env=dict(
                os.environ,
                DJZ_LOCUST_FIXTURE=str(fixture),
                DJZ_LOCUST_TIMINGS=str(timings),
                DJZ_LOCUST_WARMUP=str(args.users // ramp + 5),
                DJZ_LOCUST_POOL_START=str(pool_start),
            ),
            check=False,
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    rows = [json.loads(line) for line in timings.read_text().splitlines() if line]
    # the submissions recorded, and those still in flight when locust stopped
    used = sum(1 for r in rows if r["name"] == "submit") + args.users
    pool_next.write_text(str(pool_start + used))
    measured = [r for r in rows if not r["warmup"]]
    result: dict = {
        "benchmark": "cases_load",
        "persons": counts["persons"],
        "cases_before": counts["cases"],
        "users": args.users,
        "seconds": args.seconds,
        "gunicorn": f"{args.workers} workers x {args.threads} threads",
        "city_load_seconds": load_seconds,
        "src": args.src,
        "requests": len(measured),
        "warmup_requests_excluded": len(rows) - len(measured),
        "errors": sum(1 for r in rows if not r["ok"]),
        "error_samples": [r for r in rows if not r["ok"]][:5],
    }
    for name in ("submit", "case_page", "status", "healthz"):
        ms = [r["ms"] for r in measured if r["name"] == name]
        if ms:
            result[name] = {
                "n": len(ms),
                "p50_ms": round(percentile(ms, 0.50), 1),
                "p95_ms": round(percentile(ms, 0.95), 1),
                "p99_ms": round(percentile(ms, 0.99), 1),
                "max_ms": round(max(ms), 1),
            }
    base = result.get("healthz", {}).get("p99_ms")
    if base:
        result["p99_ratio_to_healthz"] = {
            k: round(result[k]["p99_ms"] / base, 1)
            for k in ("submit", "case_page", "status")
            if k in result
        }
    emit(result)


if __name__ == "__main__":
    main()
