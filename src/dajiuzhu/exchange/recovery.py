"""Batches that survive the death of the process working on them (docs/decisions/0004).

Huey removes a task from its queue *before* running it, so a worker killed mid-task leaves no
trace of the task in the queue. The batch row is therefore the source of truth:

* **claim** — a worker takes a queued batch with one conditional UPDATE (``queued`` →
  ``receiving``, owner = this process, attempts + 1): of two workers given the same batch,
  one gets it and the other does nothing (Healthchecks' ``UPDATE … WHERE``).
* **owner and heartbeat** — the owner is ``host:pid:start-time`` of the process (the start
  time tells a dead process from a new one that got its pid); while it works, a thread of that
  process touches ``heartbeat_at`` every ``HEARTBEAT_SECONDS``.
* **recovery** (``batches_recover``) — when a worker starts (Huey's ``on_startup``) and every
  minute (a periodic task), and before each CLI ingest: a ``receiving`` batch whose owner is
  dead (same host: the pid is gone or belongs to another process; another host: no heartbeat
  for ``STALE_SECONDS``) is put back in the queue when its upload is still there and it was
  tried fewer than ``MAX_ATTEMPTS`` times — ingestion publishes nothing before its last
  transaction, so a second run starts clean — and otherwise failed with a Chinese reason. Each
  step is a conditional UPDATE on the values it judged, so two recoveries never both act.
  A ``queued`` batch whose task was lost (dequeued by a worker that died before claiming it)
  is enqueued again (at a worker's start at once, otherwise after ``REQUEUE_AFTER_SECONDS``;
  a second task for one batch finds it claimed and does nothing). Uploads no live batch
  refers to are removed.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.roles import Purpose
from dajiuzhu.exchange import lake, queue
from dajiuzhu.exchange.models import Batch, BatchStatus
from dajiuzhu.exchange.uploads import uploads_dir

log = logging.getLogger("dajiuzhu.exchange")

HEARTBEAT_SECONDS = 10.0
STALE_SECONDS = 60.0  # only for owners on another host: a local owner is checked by its pid
REQUEUE_AFTER_SECONDS = 10.0  # a queued batch with no task in the queue for this long
MAX_ATTEMPTS = 3
ORPHAN_SECONDS = 600.0  # an upload no live batch refers to, older than this, is removed
LEGACY_STALE = timedelta(hours=6)  # rows written before owners were recorded

INTERRUPTED = "处理中断(进程退出),未入库任何数据,请重新提交"
UPLOAD_LOST = "处理中断,待处理的上传文件已不存在,未入库任何数据,请重新提交"


def _gave_up(attempts: int) -> str:
    return (
        f"处理中断:工作进程在处理该文件时{attempts}次意外退出,未入库任何数据;"
        "请检查文件(例如是否过大)后重新提交"
    )


# --- who owns a batch -------------------------------------------------------------------------


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), "" when unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[-1].split()[19]


_owner: tuple[int, str] | None = None


def process_owner() -> str:
    global _owner
    pid = os.getpid()
    if _owner is None or _owner[0] != pid:  # computed again in a forked child
        _owner = (pid, f"{socket.gethostname()}:{pid}:{_start_time(pid)}")
    return _owner[1]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owner_alive(batch: Batch, now=None) -> bool:
    now = now or timezone.now()
    if not batch.owner:  # written before owners were recorded
        return (
            batch.worker_pid is not None
            and _pid_alive(batch.worker_pid)
            and batch.received_at > now - LEGACY_STALE
        )
    if batch.owner == process_owner():
        return True
    host, _, rest = batch.owner.partition(":")
    pid_text, _, started = rest.partition(":")
    if host == socket.gethostname() and pid_text.isdigit():
        pid = int(pid_text)
        if pid == os.getpid() or not _pid_alive(pid):
            return False
        return not started or _start_time(pid) in ("", started)
    return batch.heartbeat_at is not None and batch.heartbeat_at > now - timedelta(
        seconds=STALE_SECONDS
    )


# --- claim and heartbeat ----------------------------------------------------------------------


def batch_claim(batch_id: int) -> Batch | None:
    """Take a queued batch for this process, or None if another took it (or it is done)."""
    claimed = Batch.objects.filter(pk=batch_id, status=BatchStatus.QUEUED).update(
        status=BatchStatus.RECEIVING,
        owner=process_owner(),
        worker_pid=os.getpid(),
        heartbeat_at=timezone.now(),
        attempts=F("attempts") + 1,
    )
    return Batch.objects.get(pk=batch_id) if claimed else None


class _Heartbeat:
    """One thread per process touches the batches this process is working on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> None:
        with self._lock:
            self._users += 1
            if self._thread is None:
                self._stop = threading.Event()
                self._thread = threading.Thread(
                    target=self._run, args=(self._stop,), name="batch-heartbeat", daemon=True
                )
                self._thread.start()

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._users -= 1
            if self._users or self._thread is None:
                return
            self._stop.set()
            thread, self._thread = self._thread, None
        thread.join(timeout=5)

    def _run(self, stop: threading.Event) -> None:
        try:
            while not stop.wait(HEARTBEAT_SECONDS):
                try:
                    beat()
                except DatabaseError:  # e.g. SQLite busy during a long publication; next time
                    log.warning("exchange.batch.heartbeat_failed", exc_info=True)
        finally:
            connection.close()


def beat() -> int:
    """Touch every batch this process is working on. Never waits long for a row lock (the
    publication holds the batch's row at its very end): the next beat comes soon."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
        return Batch.objects.filter(owner=process_owner(), status=BatchStatus.RECEIVING).update(
            heartbeat_at=timezone.now()
        )


_heartbeat = _Heartbeat()


@contextmanager
def heartbeat():
    with _heartbeat:
        yield


# --- recovery ---------------------------------------------------------------------------------


@dataclass
class RecoveryReport:
    requeued: int = 0
    failed: int = 0
    reenqueued: int = 0
    swept: int = 0

    @property
    def recovered(self) -> int:
        return self.requeued + self.failed


def _remove_traces(batch: Batch) -> None:
    """What a dead attempt may have left: staging folders and an unpublished lake folder."""
    lake.remove_tree(lake.staging_root() / f"batch-{batch.pk}")
    lake.remove_tree(lake.staging_root() / f"upload-{batch.pk}")
    lake.remove_tree(lake.batch_dir(batch.dataset, batch.pk))


def _enqueue(batch_id: int) -> None:
    queue.enqueue_on_commit(batch_id)


def _audit(batch: Batch, action: str, **detail) -> None:
    audit_record(
        actor=None,
        action=action,
        object_type="batch",
        object_id=batch.pk,
        purpose=Purpose.ADMINISTRATION,
        label="worker:recovery",
        detail={"dataset": batch.dataset, **detail},
    )


def _recover_interrupted(batch: Batch) -> str | None:
    """Requeue or fail one batch whose owner is dead; None if someone else acted first."""
    upload = Path(batch.upload_path) if batch.upload_path else None
    judged = Batch.objects.filter(
        pk=batch.pk,
        status=BatchStatus.RECEIVING,
        owner=batch.owner,
        heartbeat_at=batch.heartbeat_at,
        worker_pid=batch.worker_pid,
    )
    now = timezone.now()
    with transaction.atomic():
        if upload is not None and upload.exists() and batch.attempts < MAX_ATTEMPTS:
            if not judged.update(
                status=BatchStatus.QUEUED, owner="", worker_pid=None, heartbeat_at=now, error=""
            ):
                return None
            _audit(batch, "exchange.batch.requeue", attempts=batch.attempts)
            outcome = "requeued"
        else:
            reason = INTERRUPTED
            if upload is not None:
                reason = _gave_up(batch.attempts) if upload.exists() else UPLOAD_LOST
            if not judged.update(status=BatchStatus.FAILED, error=reason, worker_pid=None):
                return None
            _audit(batch, "exchange.batch.interrupted", attempts=batch.attempts)
            outcome = "failed"
    _remove_traces(batch)
    if outcome == "requeued":
        _enqueue(batch.pk)
    elif upload is not None:
        upload.unlink(missing_ok=True)
    log.warning(
        f"exchange.batch.{outcome}",
        extra={"batch": batch.pk, "dataset": batch.dataset, "attempts": batch.attempts},
    )
    return outcome


def _pending_upload_tasks() -> set[int]:
    return queue.upload_queue().waiting()


def _reenqueue_lost(now, grace: float) -> int:
    cutoff = now - timedelta(seconds=grace)
    waiting = list(
        Batch.objects.filter(status=BatchStatus.QUEUED).filter(
            Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True)
        )
    )
    if not waiting:
        return 0
    pending = _pending_upload_tasks()
    count = 0
    for batch in waiting:
        if batch.pk in pending:
            continue
        upload = Path(batch.upload_path) if batch.upload_path else None
        if upload is None or not upload.exists():
            if Batch.objects.filter(pk=batch.pk, status=BatchStatus.QUEUED).update(
                status=BatchStatus.FAILED, error=UPLOAD_LOST
            ):
                log.warning("exchange.batch.failed", extra={"batch": batch.pk})
            continue
        if Batch.objects.filter(
            pk=batch.pk, status=BatchStatus.QUEUED, heartbeat_at=batch.heartbeat_at
        ).update(heartbeat_at=now):
            _enqueue(batch.pk)
            log.info("exchange.batch.reenqueued", extra={"batch": batch.pk})
            count += 1
    return count


def uploads_sweep(now=None) -> int:
    """Remove uploads no queued or receiving batch refers to (left by a process that died
    between publication and cleanup, or by a request that failed after writing its file)."""
    now = now or timezone.now()
    directory = uploads_dir()
    live = set(
        Batch.objects.filter(status__in=[BatchStatus.QUEUED, BatchStatus.RECEIVING]).values_list(
            "upload_path", flat=True
        )
    )
    removed = 0
    for path in directory.iterdir():
        if str(path) in live or not path.is_file():
            continue
        if path.stat().st_mtime > now.timestamp() - ORPHAN_SECONDS:
            continue  # perhaps a request still writing its batch
        path.unlink(missing_ok=True)
        removed += 1
    if removed:
        log.warning("exchange.uploads.swept", extra={"files": removed})
    return removed


def batches_recover(*, at_start: bool = False) -> RecoveryReport:
    """Recover what dead processes left (see the module's docstring). When a worker starts,
    a queued batch with no task in the queue is enqueued at once: whichever worker had taken
    its task is gone, or (another live worker) will find it claimed."""
    report = RecoveryReport()
    now = timezone.now()
    for batch in Batch.objects.filter(status=BatchStatus.RECEIVING):
        if owner_alive(batch, now):
            continue
        outcome = _recover_interrupted(batch)
        if outcome == "requeued":
            report.requeued += 1
        elif outcome == "failed":
            report.failed += 1
    report.reenqueued = _reenqueue_lost(now, 0.0 if at_start else REQUEUE_AFTER_SECONDS)
    report.swept = uploads_sweep(now)
    return report


def batch_requeue_interrupted(batch_id: int) -> bool:
    """The worker is being stopped in the middle of a batch (Huey's interrupt): put the batch
    back in the queue for the next worker, keeping its upload."""
    return bool(
        Batch.objects.filter(
            pk=batch_id,
            owner=process_owner(),
            status__in=[BatchStatus.RECEIVING, BatchStatus.FAILED],
        ).update(
            status=BatchStatus.QUEUED,
            owner="",
            worker_pid=None,
            heartbeat_at=timezone.now(),
            error="",
        )
    )
