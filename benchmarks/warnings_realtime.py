"""Real-time event push to a visible warning (issue 5).

Claim: a real-time push to `traffic_accidents`, `incidents`, `deaths` or
`disability_certificates` shows up as a warning in the town's queue within 60 s. (Pushed here:
accidents, incidents and certificates for random persons; a death warns only for a household's
main earner, which the test suite covers — tests/warnings/test_realtime.py.)

What is timed, end to end, as in production: the department's system pushes one row over the
API with its token (contract checks, pseudonymisation, publication) → the publish hook enqueues
the event rule on commit → a separate `dajiuzhu worker` process (Huey, SQLite queue in the home)
runs the rule for the batch's persons → a town clerk's `GET /api/v1/warnings` lists it. Polled
every 100 ms. Runs on a lake built by warnings_scan.py:

    .venv/bin/python benchmarks/warnings_realtime.py --home /tmp/djz-w5m --pushes 12
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, percentile

LIMIT_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", required=True)
    parser.add_argument("--pushes", type=int, default=12)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    home = Path(args.home)
    os.environ["DAJIUZHU_HOME"] = str(home)
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "dajiuzhu.settings"
    import django

    django.setup()
    import duckdb
    from django.test import Client

    from dajiuzhu.core.models import User
    from dajiuzhu.core.services import api_token_create, user_create
    from dajiuzhu.exchange.models import Batch

    source = home / "source"
    # living persons with no disability certificate yet (a new grade-1 certificate warns)
    people = duckdb.sql(
        f"SELECT id_number, division_code FROM read_parquet('{source / 'hukou.parquet'}') "
        "WHERE status = 'normal' AND id_number NOT IN (SELECT id_number FROM "
        f"read_parquet('{source / 'disability_certificates.parquet'}')) USING SAMPLE 2000 ROWS"
    ).fetchall()
    rng = random.Random(args.seed)
    tokens = {}
    for department in ("jiaojing", "yingji", "canlian"):
        _token, clear = api_token_create(
            actor=None, department_code=department, name="realtime benchmark"
        )
        tokens[department] = Client(HTTP_AUTHORIZATION=f"Bearer {clear}")
    clerks: dict[str, Client] = {}

    def clerk_for(town: str) -> Client:
        if town not in clerks:
            name = f"rt_{town}"
            user = User.objects.filter(username=name).first() or user_create(
                actor=None,
                username=name,
                password=os.urandom(12).hex(),
                role="window_clerk",
                scope_code=town,
                check_password=False,
            )
            client = Client()
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
            clerks[town] = client
        return clerks[town]

    env = dict(os.environ)
    worker = subprocess.Popen(
        [sys.executable, "-m", "dajiuzhu.cli", "worker", "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(3)  # the consumer starts
    latencies: dict[str, list[float]] = {}
    day = (date.today() - timedelta(days=3)).isoformat()
    try:
        for i in range(args.pushes):
            id_number, division = rng.choice(people)
            kind = ("traffic_accidents", "incidents", "disability_certificates")[i % 3]
            ref = f"RT{os.getpid()}{i:04d}"
            if kind == "traffic_accidents":
                department, row = (
                    "jiaojing",
                    {
                        "accident_id": ref,
                        "id_number": id_number,
                        "accident_date": day,
                        "injury": "serious",
                    },
                )
            elif kind == "incidents":
                department, row = (
                    "yingji",
                    {
                        "incident_id": ref,
                        "id_number": id_number,
                        "incident_date": day,
                        "kind": "fire",
                        "loss_level": "major",
                        "loss_amount": "50000.00",
                    },
                )
            else:
                department, row = (
                    "canlian",
                    {
                        "certificate_no": ref,
                        "id_number": id_number,
                        "disability_kind": "intellectual",
                        "grade": "1",
                        "issued_date": day,
                        "status": "valid",
                    },
                )
            clerk = clerk_for(division[:9])
            started = time.perf_counter()
            response = tokens[department].post(
                f"/api/v1/exchange/{kind}/rows", {"rows": [row]}, content_type="application/json"
            )
            if response.status_code != 200:
                sys.exit(f"push failed: {response.status_code} {response.content[:300]!r}")
            while True:
                listed = clerk.get("/api/v1/warnings", {"limit": 500, "age": "0-3"}).json()
                if any(w["event_ref"] == ref for w in listed):
                    break
                if time.perf_counter() - started > 5 * LIMIT_SECONDS:
                    sys.exit(f"{kind} {ref}: no warning after {5 * LIMIT_SECONDS} s")
                time.sleep(0.1)
            latencies.setdefault(kind, []).append(time.perf_counter() - started)
    finally:
        os.killpg(worker.pid, signal.SIGINT)
        worker.wait(timeout=30)
    every = [x for xs in latencies.values() for x in xs]
    emit(
        {
            "benchmark": "warnings_realtime",
            "scale": {
                "persons": sum(b.accepted for b in Batch.objects.filter(dataset="hukou")),
                "pushes": len(every),
            },
            "seconds_p50": round(percentile(every, 0.5), 2),
            "seconds_p95": round(percentile(every, 0.95), 2),
            "seconds_max": round(max(every), 2),
            "by_dataset_max": {k: round(max(v), 2) for k, v in latencies.items()},
            "limit_seconds": LIMIT_SECONDS,
        }
    )


if __name__ == "__main__":
    main()
