"""`dajiuzhu worker` run as a real process in a fresh home: its output, and what happens to a
task when the worker is killed in the middle of it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.factories.processes import home_env

pytestmark = pytest.mark.xdist_group("cli")


def _start_worker(home: Path, log: Path) -> subprocess.Popen:
    with log.open("ab") as fh:
        return subprocess.Popen(
            [sys.executable, "-m", "dajiuzhu.cli", "worker", "--workers", "1"],
            env=home_env(home),
            stdout=fh,
            stderr=subprocess.STDOUT,
        )


def _wait_for(condition, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # graceful: running tasks finish
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_the_worker_prints_each_log_line_once(tmp_path):
    home, log = tmp_path / "home", tmp_path / "worker.log"
    proc = _start_worker(home, log)
    try:
        _wait_for(
            lambda: "commands are available" in log.read_text(),
            timeout=90,
            what="the worker to start",
        )
    finally:
        _stop(proc)
    text = log.read_text()
    assert text.count("Huey consumer started") == 1, text
    assert text.count("The following commands are available") == 1, text


QUEUE_UPLOAD = """
import sys
from dajiuzhu.bootstrap import setup as setup_django
setup_django()
from django.core.files import File
from dajiuzhu.exchange.services import batch_queue_upload
with open(sys.argv[1], "rb") as fh:
    batch = batch_queue_upload(
        actor=None, token=None, dataset="medical_claims", upload=File(fh, name="claims.csv")
    )
print(batch.pk)
"""
ROWS = 600_000  # a few seconds of ingestion, so that the kill lands in the middle of it


def _write_claims(path: Path, rows: int) -> str:
    import csv
    from datetime import date

    from dajiuzhu.core.idnumber import make_id_number

    ids = [make_id_number("320402", date(1975, 6, 1), i) for i in range(1, 1000)]
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
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
        tail = ["2023-03-05", "inpatient", "1200.50", "800.00", "0", "0", "400.50", "300.00"]
        for i in range(rows):
            writer.writerow([f"K{i:09d}", ids[i % 999], *tail, "H0001"])
    return ids[0]


def _batch(home: Path, batch_id: int) -> dict:
    import sqlite3

    con = sqlite3.connect(f"file:{home / 'db.sqlite3'}?mode=ro", uri=True, timeout=30)
    try:
        row = con.execute(
            "SELECT status, attempts, accepted, error, upload_path FROM exchange_batch "
            "WHERE id = ?",
            [batch_id],
        ).fetchone()
    finally:
        con.close()
    return dict(zip(["status", "attempts", "accepted", "error", "upload_path"], row, strict=True))


@pytest.mark.slow
def test_a_worker_killed_mid_upload_is_recovered_when_it_restarts(tmp_path):
    home, log = tmp_path / "home", tmp_path / "worker.log"
    env = home_env(home)
    source = tmp_path / "claims.csv"
    an_id_number = _write_claims(source, ROWS)
    queued = subprocess.run(  # (initialises the home and its database on first use)
        [sys.executable, "-c", QUEUE_UPLOAD, str(source)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert queued.returncode == 0, queued.stderr
    batch_id = int(queued.stdout.strip().splitlines()[-1])
    upload = Path(_batch(home, batch_id)["upload_path"])
    assert upload.stat().st_mode & 0o777 == 0o600
    with upload.open("rb") as fh:
        assert an_id_number.encode() not in fh.read(4 << 20)  # encrypted at rest

    worker = _start_worker(home, log)
    try:
        _wait_for(
            lambda: _batch(home, batch_id)["status"] == "receiving",
            timeout=120,
            what="the worker to take the upload",
        )
        time.sleep(0.5)
        worker.kill()  # SIGKILL: no clean-up of any kind
        worker.wait()
    finally:
        _stop(worker)
    killed = _batch(home, batch_id)
    assert killed["status"] == "receiving", f"finished before the kill: {killed}"
    assert upload.exists()

    restarted_at = time.monotonic()
    worker = _start_worker(home, log)
    try:
        done = _wait_for(
            lambda: (b := _batch(home, batch_id))["status"] in ("published", "failed") and b,
            timeout=60,
            what="the interrupted batch to be recovered",
        )
        assert time.monotonic() - restarted_at < 60
    finally:
        _stop(worker)
    assert (done["status"], done["accepted"], done["attempts"], done["error"]) == (
        "published",
        ROWS,
        2,
        "",
    )
    assert not upload.exists()
    assert list((home / "uploads").iterdir()) == []
    staging = home / "staging"
    assert [*staging.glob("batch-*"), *staging.glob("upload-*")] == []
    assert "exchange.batch.requeued" in log.read_text()
    verify = subprocess.run(
        [sys.executable, "-m", "dajiuzhu.cli", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert verify.returncode == 0, verify.stderr
    # the worker's minute job wrote the audit head outside the database, and verify checked it
    checkpoints = (home / "audit" / "checkpoints.jsonl").read_text().splitlines()
    assert any('"by": "worker"' in line for line in checkpoints)
    assert json.loads(verify.stdout.strip().splitlines()[-1])["checkpoints"] == len(checkpoints)
