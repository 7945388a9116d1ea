"""Publication of a staged batch, in one database transaction: its quality figures, its
quarantine rows (original values encrypted), the in-transaction publish hooks (the registry
feeds), the move of the staging folder into the lake and the status flip. Any failure leaves
nothing of the batch; the after-commit hooks (warnings, summaries, clustering) run once the
batch is visible."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
from django.db import transaction
from django.utils import timezone

from dajiuzhu.core import crypto
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.roles import Purpose
from dajiuzhu.exchange import hooks, lake, quality
from dajiuzhu.exchange.contracts import Contract
from dajiuzhu.exchange.hooks import PublishedBatch
from dajiuzhu.exchange.models import Batch, BatchStatus, DatasetState, QuarantineRow

QUARANTINE_CHUNK = 5_000


QUARANTINE_CHUNK_BYTES = 32 << 20  # inserted when either is reached


def quarantine_rows(batch: Batch, quarantine: Path, contract: Contract) -> Iterator[QuarantineRow]:
    from dajiuzhu.exchange.validation import describe_problems

    pf = pq.ParquetFile(quarantine)
    for record_batch in pf.iter_batches(batch_size=QUARANTINE_CHUNK):
        for row in record_batch.to_pylist():
            values = {c: row[c] for c in contract.columns}
            yield QuarantineRow(
                batch=batch,
                row_number=row["_row"],
                problems=describe_problems(row["_problems"], contract),
                raw_enc=crypto.encrypt(
                    json.dumps(values, ensure_ascii=False), field="quarantine.row"
                ),
            )


def publish(
    batch: Batch,
    contract: Contract,
    con,
    staging: Path,
    part: Path | None,
    quarantine: Path,
    fields,
) -> None:
    final = lake.batch_dir(contract.dataset, batch.pk)
    moved = False
    try:
        with transaction.atomic():
            DatasetState.objects.get_or_create(dataset=contract.dataset)
            state = DatasetState.objects.select_for_update().get(dataset=contract.dataset)
            batch.overlaps = part is not None and quality.overlaps(contract, con, part)
            batch.period_max = quality.period_max(contract, con, part) if part else ""
            batch.accuracy = quality.accuracy(contract, con, part) if part else None
            batch.timeliness = quality.timeliness(batch, contract)
            if batch.rejected:
                pending: list[QuarantineRow] = []
                size = 0
                for qrow in quarantine_rows(batch, quarantine, contract):
                    pending.append(qrow)
                    size += len(qrow.raw_enc)
                    if len(pending) >= QUARANTINE_CHUNK or size >= QUARANTINE_CHUNK_BYTES:
                        QuarantineRow.objects.bulk_create(pending)
                        pending, size = [], 0
                QuarantineRow.objects.bulk_create(pending)
            if part is not None:
                hooks.run_in_transaction(PublishedBatch(batch, contract, con, part, fields))
            if part is not None:
                final.parent.mkdir(parents=True, exist_ok=True)
                final.mkdir()
                os.replace(part, final / part.name)
                moved = True
            batch.status = BatchStatus.PUBLISHED
            batch.published_at = timezone.now()
            batch.worker_pid = None
            batch.save()
            state.last_published_at = batch.published_at
            state.save(update_fields=["last_published_at"])
            audit_record(
                actor=batch.steward,
                action="exchange.batch.publish",
                object_type="batch",
                object_id=batch.pk,
                purpose=Purpose.ADMINISTRATION,
                label=batch.submitted_by,
                detail={
                    "dataset": batch.dataset,
                    "department": batch.department_id,
                    "rows": batch.rows,
                    "accepted": batch.accepted,
                    "rejected": batch.rejected,
                    "overlaps": batch.overlaps,
                },
            )
            hooks.batch_changed(batch)
    except BaseException:  # undo the move so that nothing of the batch remains, then re-raise
        if moved:
            lake.remove_tree(final)
        raise
