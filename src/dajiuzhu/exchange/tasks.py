"""Background jobs of the data exchange (Huey). A task takes an id and calls a service."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from dajiuzhu.exchange import ingest, lake, services


@db_task()
def process_upload(batch_id: int) -> None:
    services.batch_process_upload(batch_id=batch_id)


@db_periodic_task(crontab(minute="*/30"))
def recover_stale_batches() -> None:
    ingest.recover_stale()


@db_task()
def cluster(batch_id: int) -> None:
    lake.cluster_batch(batch_id)
