"""Uploads at rest, and batches whose process died: claimed once, re-queued or failed cleanly.

The real thing — a worker process killed with SIGKILL in the middle of an upload — is in
tests/test_worker.py; these tests set up the states such a death leaves."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from dajiuzhu.core.models import AuditEvent
from dajiuzhu.core.services import api_token_create
from dajiuzhu.exchange import lake as lake_store
from dajiuzhu.exchange import recovery, services, uploads
from dajiuzhu.exchange.models import Batch, BatchStatus
from tests.factories.exchange import claim, write_csv

pytestmark = pytest.mark.usefixtures("home")


@pytest.fixture
def home(tmp_path, settings):
    """A home of the test's own for uploads (the lake fixture already has its own)."""
    settings.HOME = tmp_path / "home"
    settings.HOME.mkdir()
    return settings.HOME


def _queue(files, rows=None, name="c.csv") -> Batch:
    """Queue an upload through the API; its task is not run (on-commit callbacks are not
    executed here), which is also what a lost task looks like."""
    _token, clear = api_token_create(actor=None, department_code="yibao", name="test")
    path = write_csv(files / name, rows or [claim(1), claim(2), claim(3)])
    upload = SimpleUploadedFile(name, path.read_bytes())
    response = Client(HTTP_AUTHORIZATION=f"Bearer {clear}").post(
        "/api/v1/exchange/medical_claims/files", {"file": upload}
    )
    assert response.status_code == 202
    return Batch.objects.get(pk=response.json()["batch"])


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def _as_if_claimed_by(batch: Batch, owner: str, *, pid: int | None, attempts: int = 1, **extra):
    Batch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.RECEIVING,
        owner=owner,
        worker_pid=pid,
        attempts=attempts,
        heartbeat_at=timezone.now(),
        **extra,
    )


def test_an_upload_waits_encrypted_0600_in_a_0700_directory(db, files, home):
    rows = [claim(1), claim(2)]
    batch = _queue(files, rows)
    stored = Path(batch.upload_path)
    assert stored.parent == home / "uploads"
    assert stored.stat().st_mode & 0o777 == 0o600
    assert stored.parent.stat().st_mode & 0o777 == 0o700
    plain = (files / "c.csv").read_bytes()
    content = stored.read_bytes()
    assert rows[0]["id_number"].encode() not in content
    assert b"claim_id" not in content
    assert uploads.upload_decrypt(stored, files / "back.csv").read_bytes() == plain

    result = services.batch_process_upload(batch_id=batch.pk)
    assert (result.batch.status, result.batch.accepted) == (BatchStatus.PUBLISHED, 2)
    assert not stored.exists()
    assert list((home / "uploads").iterdir()) == []
    assert not (lake_store.staging_root() / f"upload-{batch.pk}").exists()


def test_a_large_upload_is_sealed_in_chunks_and_read_back(files):
    data = os.urandom(uploads.CHUNK * 2 + 123)
    stored = files / "big.csv"
    uploads.upload_store([data[:1000], data[1000:]], stored)
    assert uploads.upload_decrypt(stored, files / "back").read_bytes() == data
    exact = files / "exact.csv"
    uploads.upload_store([data[: uploads.CHUNK]], exact)
    assert uploads.upload_decrypt(exact, files / "back2").read_bytes() == data[: uploads.CHUNK]


def test_an_upload_is_deleted_when_its_batch_fails(db, files):
    batch = _queue(files, [{"claim_id": "C1", "foo": "2"}])
    services.batch_process_upload(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED
    assert "缺少列" in batch.error
    assert not Path(batch.upload_path).exists()


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_an_altered_upload_fails_its_batch_with_a_clear_message(db, files, damage):
    batch = _queue(files)
    stored = Path(batch.upload_path)
    content = bytearray(stored.read_bytes())
    if damage == "flip":
        content[-5] ^= 0x01
    else:
        content = content[:-20]
    stored.write_bytes(bytes(content))
    assert services.batch_process_upload(batch_id=batch.pk) is None
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED
    assert batch.error == services.UPLOAD_UNREADABLE
    assert not stored.exists()


def test_a_batch_is_claimed_once_even_if_its_task_runs_twice(db, files):
    batch = _queue(files)
    assert services.batch_process_upload(batch_id=batch.pk).batch.status == BatchStatus.PUBLISHED
    assert services.batch_process_upload(batch_id=batch.pk) is None
    assert recovery.batch_claim(batch.pk) is None
    batch.refresh_from_db()
    assert (batch.status, batch.accepted, batch.attempts) == (BatchStatus.PUBLISHED, 3, 1)
    published = AuditEvent.objects.filter(action="exchange.batch.publish", object_id=batch.pk)
    assert published.count() == 1


def test_a_batch_whose_worker_died_is_requeued_and_finished(
    db, files, django_capture_on_commit_callbacks
):
    batch = _queue(files)
    pid = _dead_pid()
    _as_if_claimed_by(batch, f"{socket.gethostname()}:{pid}:12345", pid=pid)
    # what the dead attempt left: its staging and a half-moved lake folder
    staging = lake_store.staging_root() / f"batch-{batch.pk}"
    staging.mkdir(parents=True)
    (staging / "part-0.parquet").write_bytes(b"partial")
    lake_store.batch_dir("medical_claims", batch.pk).mkdir(parents=True)
    with django_capture_on_commit_callbacks(execute=True):
        report = recovery.batches_recover()
    assert (report.requeued, report.failed) == (1, 0)
    batch.refresh_from_db()
    assert (batch.status, batch.accepted, batch.attempts) == (BatchStatus.PUBLISHED, 3, 2)
    assert batch.error == ""
    assert not Path(batch.upload_path).exists()
    assert not staging.exists()
    event = AuditEvent.objects.get(action="exchange.batch.requeue")
    assert (event.object_id, event.actor_label, event.detail["attempts"]) == (
        str(batch.pk),
        "worker:recovery",
        1,
    )


def test_a_batch_interrupted_too_often_fails_with_a_reason_and_its_upload_goes(db, files):
    batch = _queue(files)
    pid = _dead_pid()
    _as_if_claimed_by(
        batch, f"{socket.gethostname()}:{pid}:1", pid=pid, attempts=recovery.MAX_ATTEMPTS
    )
    report = recovery.batches_recover()
    assert (report.requeued, report.failed) == (0, 1)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED
    assert batch.error == (
        f"处理中断:工作进程在处理该文件时{recovery.MAX_ATTEMPTS}次意外退出,未入库任何数据;"
        "请检查文件(例如是否过大)后重新提交"
    )
    assert not Path(batch.upload_path).exists()
    assert AuditEvent.objects.filter(action="exchange.batch.interrupted").count() == 1


def test_an_interrupted_cli_ingest_fails_at_once_once_its_process_is_gone(db, files):
    batch = _queue(files)
    Path(batch.upload_path).unlink()
    pid = _dead_pid()
    _as_if_claimed_by(batch, f"{socket.gethostname()}:{pid}:1", pid=pid, upload_path="")
    assert recovery.batches_recover().failed == 1
    batch.refresh_from_db()
    assert (batch.status, batch.error) == (BatchStatus.FAILED, recovery.INTERRUPTED)


def test_live_owners_are_left_alone_and_dead_ones_recognised(db, files):
    batch = _queue(files)
    host = socket.gethostname()
    parent = os.getppid()
    started = recovery._start_time(parent)
    cases = [
        (recovery.process_owner(), os.getpid(), 0, True),  # this very process
        (f"{host}:{parent}:{started}", parent, 0, True),  # another live process here
        (f"{host}:{parent}:999999999", parent, 0, False),  # its pid, but another process
        (f"{host}:{_dead_pid()}:1", None, 0, False),  # gone
        ("elsewhere:4242:1", 4242, 5, True),  # another host, heartbeat 5 s ago
        ("elsewhere:4242:1", 4242, 120, False),  # another host, silent for 2 minutes
    ]
    for owner, pid, silent, alive in cases:
        _as_if_claimed_by(batch, owner, pid=pid)
        Batch.objects.filter(pk=batch.pk).update(
            heartbeat_at=timezone.now() - timedelta(seconds=silent)
        )
        batch.refresh_from_db()
        assert recovery.owner_alive(batch) is alive, owner


def test_a_queued_batch_whose_task_was_lost_is_enqueued_again(
    db, files, django_capture_on_commit_callbacks
):
    first = _queue(files)
    assert recovery.batches_recover().reenqueued == 0  # just queued: its task may be on its way
    with django_capture_on_commit_callbacks(execute=True):
        report = recovery.batches_recover(at_start=True)  # a worker starts: at once
    assert report.reenqueued == 1
    first.refresh_from_db()
    assert (first.status, first.accepted) == (BatchStatus.PUBLISHED, 3)

    second = _queue(files, [claim(7)])
    Batch.objects.filter(pk=second.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        report = recovery.batches_recover()  # the minute job: once the grace has passed
    assert report.reenqueued == 1
    second.refresh_from_db()
    assert (second.status, second.accepted) == (BatchStatus.PUBLISHED, 1)


def test_a_worker_stopped_mid_batch_puts_it_back_in_the_queue(db, files, monkeypatch):
    from dajiuzhu.exchange import quality

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(quality, "timeliness", stopped)
    batch = _queue(files)
    with pytest.raises(KeyboardInterrupt):
        services.batch_process_upload(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.error, batch.owner) == (BatchStatus.QUEUED, "", "")
    assert Path(batch.upload_path).exists()
    monkeypatch.undo()
    assert services.batch_process_upload(batch_id=batch.pk).batch.status == BatchStatus.PUBLISHED


def test_orphaned_uploads_are_swept_and_waiting_ones_kept(db, files, home):
    batch = _queue(files)
    directory = home / "uploads"
    old = time.time() - 3600
    orphan, fresh = directory / "orphan.csv", directory / "fresh.csv"
    orphan.write_bytes(b"x")
    fresh.write_bytes(b"x")
    os.utime(orphan, (old, old))
    os.utime(batch.upload_path, (old, old))
    assert recovery.uploads_sweep() == 1
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        [Path(batch.upload_path).name, "fresh.csv"]
    )


def test_the_heartbeat_thread_beats_while_a_batch_is_worked_on(db, files, monkeypatch):
    beats = threading.Event()
    monkeypatch.setattr(recovery, "HEARTBEAT_SECONDS", 0.01)
    monkeypatch.setattr(recovery, "beat", beats.set)
    with recovery.heartbeat(), recovery.heartbeat():  # nested users share one thread
        assert beats.wait(5)
        threads = [t for t in threading.enumerate() if t.name == "batch-heartbeat"]
        assert len(threads) == 1
    threads[0].join(5)
    assert not threads[0].is_alive()
    batch = _queue(files)
    _as_if_claimed_by(batch, recovery.process_owner(), pid=os.getpid())
    Batch.objects.filter(pk=batch.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    monkeypatch.undo()
    assert recovery.beat() == 1
    batch.refresh_from_db()
    assert batch.heartbeat_at > timezone.now() - timedelta(minutes=1)
