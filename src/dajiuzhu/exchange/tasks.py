"""Background jobs of the data exchange (Huey). A task takes an id and calls a service.

* ``process_upload`` — enqueued on commit when an upload is queued; claims the batch first, so
  running it twice is harmless.
* ``recover_interrupted_batches`` — every minute, and once when a worker starts
  (``on_startup``): batches whose process died are put back in the queue or failed, lost
  tasks enqueued again, orphaned uploads removed (exchange/recovery.py). Huey's own task lock
  is not used for uploads: a worker killed while holding it would leave the lock behind, and
  the batch row is what says who works on a batch.
* ``cluster`` — re-sorts a large published batch by person.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import close_db, db_periodic_task, db_task, on_startup

from dajiuzhu.exchange import lake, recovery, services


@db_task()
def process_upload(batch_id: int) -> None:
    services.batch_process_upload(batch_id=batch_id)


@db_periodic_task(crontab(minute="*"))
def recover_interrupted_batches() -> None:
    recovery.batches_recover()


@on_startup()
@close_db
def recover_at_worker_start() -> None:
    recovery.batches_recover(at_start=True)


@db_task()
def cluster(batch_id: int) -> None:
    lake.cluster_batch(batch_id)
