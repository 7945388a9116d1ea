"""The worker's queue of uploads, as the domain sees it: a port that the exchange app fills in.

Services and recovery enqueue a batch and ask which batches wait, without importing the worker's
tasks (interfaces import the domain, never the reverse). ``ExchangeConfig.ready`` installs the
Huey implementation from ``exchange.tasks``.
"""

from __future__ import annotations

from typing import Protocol

from django.db import transaction


class UploadQueue(Protocol):
    def enqueue(self, batch_id: int) -> None: ...

    def waiting(self) -> set[int]: ...


_queue: UploadQueue | None = None


def set_upload_queue(queue: UploadQueue) -> None:
    global _queue
    _queue = queue


def upload_queue() -> UploadQueue:
    if _queue is None:
        raise RuntimeError("no upload queue: the exchange app is not ready")
    return _queue


def enqueue_on_commit(batch_id: int) -> None:
    """Queue the batch for the worker once the current transaction commits."""
    transaction.on_commit(lambda: upload_queue().enqueue(batch_id))
