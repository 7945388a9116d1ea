"""Worker kills (issue 9, "Faults"): what happens to a queued upload when `dajiuzhu worker` dies.

Each scenario queues one `medical_claims` upload of ``--rows`` rows in a fresh home (SQLite,
Huey's SQLite queue), starts a worker process, kills it as the scenario says, starts a new
worker and waits for the batch to be published or failed. It prints one JSON line per
scenario — the batch's status when the worker died, its outcome, attempts, seconds from the
last restart to the outcome, whether the upload is gone and whether `audit verify` passes —
and a summary line.

    .venv/bin/python benchmarks/worker_kills.py --rows 200000        # about 3 minutes
    .venv/bin/python benchmarks/worker_kills.py --rows 2200000 --scenarios kill-1s

Scenarios: ``kill-<d>s`` SIGKILL d seconds after the worker took the batch; ``term-1s``
SIGTERM (a graceful stop: the running task finishes first); ``int-1s`` SIGINT (an immediate
stop: the batch goes back to the queue);
``kill-twice`` and ``kill-thrice`` (the third death makes recovery give up and fail the batch
with a reason); ``lost-task`` (the queue itself is flushed, as if the worker died between
taking the task and claiming the batch: the next worker enqueues it again when it starts).
``KEEP=1`` keeps each scenario's home (and its worker.log) for inspection.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
QUEUE = """
import sys
from dajiuzhu.bootstrap import setup as setup_django
setup_django()
from django.core.files import File
from dajiuzhu.exchange.services import batch_queue_upload
with open(sys.argv[1], "rb") as fh:
    batch = batch_queue_upload(actor=None, token=None, dataset="medical_claims",
                               upload=File(fh, name="claims.csv"))
print(batch.pk)
"""
FLUSH = """
from dajiuzhu.bootstrap import setup as setup_django
setup_django()
from huey.contrib.djhuey import HUEY
HUEY.flush()
"""
DEFAULT = ["kill-0.5s", "kill-2s", "term-1s", "int-1s", "kill-twice", "kill-thrice", "lost-task"]


def write_claims(path: Path, rows: int) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from dajiuzhu.core.idnumber import make_id_number

    ids = [make_id_number("320402", date(1975, 6, 1), i) for i in range(1, 1000)]
    tail = ["2023-03-05", "inpatient", "1200.50", "800.00", "0", "0", "400.50", "300.00", "H1"]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "claim_id",
                "id_number",
                "settlement_date",
                "claim_type",
                "total_cost",
                "fund_paid",
                "critical_illness_paid",
                "assistance_paid",
                "out_of_pocket",
                "in_policy_out_of_pocket",
                "hospital_code",
            ]
        )
        for i in range(rows):
            w.writerow([f"K{i:09d}", ids[i % 999], *tail])


class Home:
    def __init__(self, source: Path) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="djz-kills-"))
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        self.env["DAJIUZHU_HOME"] = str(self.path)
        out = self.python(QUEUE, str(source))
        self.batch = int(out.strip().splitlines()[-1])
        self.upload = Path(self.row()["upload_path"])
        self.log = (self.path / "worker.log").open("ab")

    def python(self, code: str, *args: str) -> str:
        done = subprocess.run(
            [PY, "-c", code, *args], env=self.env, capture_output=True, text=True, check=True
        )
        return done.stdout

    def worker(self) -> subprocess.Popen:
        return subprocess.Popen(
            [PY, "-m", "dajiuzhu.cli", "worker", "--workers", "1"],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def row(self) -> dict:
        con = sqlite3.connect(f"file:{self.path / 'db.sqlite3'}?mode=ro", uri=True, timeout=30)
        try:
            r = con.execute(
                "SELECT status, attempts, error, upload_path FROM exchange_batch WHERE id = ?",
                [self.batch],
            ).fetchone()
        finally:
            con.close()
        return dict(zip(["status", "attempts", "error", "upload_path"], r, strict=True))

    def wait(
        self, statuses: tuple[str, ...], timeout: float, attempts: int | None = None
    ) -> dict | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            row = self.row()
            if row["status"] in statuses and attempts in (None, row["attempts"]):
                return row
            time.sleep(0.1)
        return None

    def verify(self) -> bool:
        done = subprocess.run(
            [PY, "-m", "dajiuzhu.cli", "audit", "verify"], env=self.env, capture_output=True
        )
        return done.returncode == 0

    def close(self) -> None:
        self.log.close()
        if not os.environ.get("KEEP"):
            shutil.rmtree(self.path, ignore_errors=True)


def stop(proc: subprocess.Popen, sig: int) -> None:
    proc.send_signal(sig)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def scenario(name: str, source: Path, timeout: float) -> dict:
    home = Home(source)
    try:
        at_kill: list[str] = []
        if name == "lost-task":
            home.python(FLUSH)
            kills, sig, delay = 0, signal.SIGKILL, 0.0
        else:
            kills = {"kill-twice": 2, "kill-thrice": 3}.get(name, 1)
            sig = {"term": signal.SIGTERM, "int": signal.SIGINT}.get(
                name.split("-")[0], signal.SIGKILL
            )
            delay = float(name.split("-")[1].rstrip("s")) if name[-1] == "s" else 1.0
        for attempt in range(1, kills + 1):
            proc = home.worker()
            if home.wait(("receiving",), timeout, attempts=attempt) is None:
                stop(proc, signal.SIGKILL)
                return {"scenario": name, "error": "the worker never took the batch"}
            time.sleep(delay)
            at_kill.append(home.row()["status"])
            stop(proc, sig)
        restarted = time.monotonic()
        proc = home.worker()
        row = home.wait(("published", "failed"), timeout)
        seconds = round(time.monotonic() - restarted, 1)
        stop(proc, signal.SIGTERM)
        return {
            "scenario": name,
            "status_when_stopped": at_kill,
            "outcome": row["status"] if row else "timeout",
            "attempts": row["attempts"] if row else None,
            "error": row["error"] if row else None,
            "seconds_after_restart": seconds,
            "upload_gone": not home.upload.exists(),
            "audit_verify_ok": home.verify(),
        }
    finally:
        home.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--scenarios", nargs="*", default=DEFAULT)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "claims.csv"
        write_claims(source, args.rows)
        results = [scenario(name, source, args.timeout) for name in args.scenarios]
    for r in results:
        emit({"benchmark": "worker_kills", "rows": args.rows, **r})
    clean = [
        r
        for r in results
        if r.get("outcome") in ("published", "failed") and r["upload_gone"] and r["audit_verify_ok"]
    ]
    emit(
        {
            "benchmark": "worker_kills",
            "rows": args.rows,
            "scenarios": len(results),
            "recovered_cleanly": len(clean),
            "published": sum(r.get("outcome") == "published" for r in results),
            "failed_with_reason": sum(r.get("outcome") == "failed" for r in results),
        }
    )


if __name__ == "__main__":
    main()
