"""Writes of the data exchange: ingesting deliveries, retracting batches, resubmitting
corrected quarantine, sharing agreements. Who may deliver a dataset: its owner department
(「谁产生、谁提供、谁负责」) — through its stewards or its API tokens; the CLI acts for the
platform and may name another department."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import duckdb
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from dajiuzhu.core.access import AccessDenied, NotFound, is_admin, is_city_wide, is_staff_user
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.errors import ServiceError
from dajiuzhu.core.models import ApiToken, Department, User
from dajiuzhu.core.roles import Purpose, Role
from dajiuzhu.exchange import hooks, ingest, lake, queue, recovery, sources, uploads
from dajiuzhu.exchange.access import access_owned_batch_by_id
from dajiuzhu.exchange.contracts import (
    PURPOSE_LABELS,
    Contract,
    contract_or_error,
    get_contract,
)
from dajiuzhu.exchange.ingest import IngestResult
from dajiuzhu.exchange.models import Batch, BatchStatus, Channel, SharingAgreement

MAX_PUSH_ROWS = 10_000
CITY_STEWARDS_DELIVER = (
    "数据由部门的市级数据管理员报送;区(市)级数据管理员只能查看本辖区的共享数据和数据质量"
)


def _principal(actor: User | None, token: ApiToken | None) -> tuple[Department | None, str]:
    if token is not None:
        return token.department, f"token:{token.prefix}@{token.department_id}"
    if actor is not None:
        return actor.department, f"{actor.username}:{actor.role}"
    return None, "cli"


def _delivering_department(
    contract: Contract, actor: User | None, token: ApiToken | None, department_code: str | None
) -> tuple[Department, str]:
    department, label = _principal(actor, token)
    if actor is None and token is None:  # the platform's own CLI
        code = department_code or contract.owner
        department = Department.objects.filter(code=code).first()
        if department is None:
            raise ServiceError("department.unknown", f"未知部门:{code}", field="department")
        return department, label
    if actor is not None and is_admin(actor):
        department = Department.objects.get(code=department_code or contract.owner)
        return department, label
    if actor is not None and (not is_staff_user(actor) or actor.role != Role.DATA_STEWARD):
        raise AccessDenied
    if actor is not None and not is_city_wide(actor):
        raise AccessDenied(CITY_STEWARDS_DELIVER)
    if department is None or department.code != contract.owner:
        raise AccessDenied(f"“{contract.title}”由{contract.owner}部门提供,本部门无权报送该数据集")
    return department, label


def batch_ingest_file(
    *,
    actor: User | None,
    token: ApiToken | None = None,
    dataset: str,
    path: Path,
    fmt: str | None = None,
    department_code: str | None = None,
    channel: str = Channel.CLI,
    source_name: str = "",
) -> IngestResult:
    contract = contract_or_error(dataset)
    department, label = _delivering_department(contract, actor, token, department_code)
    ingest.recover_stale()
    with recovery.heartbeat():  # so that a worker on another host sees this process alive
        return ingest.ingest_file(
            contract=contract,
            path=path,
            fmt=fmt,
            department=department,
            steward=actor,
            submitted_by=label,
            channel=channel,
            source_name=source_name or path.name,
        )


def batch_ingest_rows(
    *, actor: User | None, token: ApiToken | None, dataset: str, rows: list[dict]
) -> IngestResult:
    contract = contract_or_error(dataset)
    department, label = _delivering_department(contract, actor, token, None)
    if not rows:
        raise ServiceError("rows.empty", "没有数据行", field="rows")
    if len(rows) > MAX_PUSH_ROWS:
        raise ServiceError("rows.too_many", f"每次最多推送{MAX_PUSH_ROWS}行", field="rows")
    return ingest.ingest_rows(
        contract=contract,
        rows=rows,
        department=department,
        steward=actor,
        submitted_by=label,
        channel=Channel.API_ROWS,
    )


def uploads_dir() -> Path:
    """Where uploads wait for the worker: 0700, each file 0600 and encrypted (uploads.py)."""
    return uploads.uploads_dir()


def batch_queue_upload(
    *,
    actor: User | None,
    token: ApiToken | None,
    dataset: str,
    upload: UploadedFile,
    fmt: str | None = None,
    channel: str = Channel.PAGE,
) -> Batch:
    """Keep an uploaded file (encrypted) and queue it for the worker; the page shows its
    progress."""
    contract = contract_or_error(dataset)
    department, label = _delivering_department(contract, actor, token, None)
    name = Path(upload.name or "upload").name
    fmt = sources.detect_format(Path(name), fmt)
    path = uploads_dir() / f"{uuid.uuid4().hex}.{fmt}"
    uploads.upload_store(upload.chunks(), path)
    batch = ingest.new_batch(
        contract=contract,
        department=department,
        steward=actor,
        submitted_by=label,
        channel=channel,
        source_name=name,
        status=BatchStatus.QUEUED,
        upload_path=str(path),
    )
    audit_record(
        actor=actor,
        action="exchange.batch.queue",
        object_type="batch",
        object_id=batch.pk,
        purpose=Purpose.ADMINISTRATION,
        label=label,
        detail={"dataset": dataset, "file": batch.source_name, "bytes": upload.size},
    )
    queue.enqueue_on_commit(batch.pk)
    return batch


UPLOAD_UNREADABLE = "上传的文件在等待处理时已损坏或被改动,未入库任何数据,请重新提交"


def batch_process_upload(*, batch_id: int) -> IngestResult | None:
    """Run a queued upload (the worker's job). Errors are recorded on the batch.

    The batch is claimed first (recovery.batch_claim: one conditional UPDATE), so a task that
    runs twice, or two workers, process it once. The upload is decrypted into a private staging
    folder for the ingestion; that copy and the upload are removed when the batch is published
    or failed. A worker stopped mid-batch puts it back in the queue, upload kept; a worker
    killed outright leaves it ``receiving`` for recovery.batches_recover."""
    batch = recovery.batch_claim(batch_id)
    if batch is None:
        return None
    contract = get_contract(batch.dataset)
    stored = Path(batch.upload_path)
    work = lake.staging_root() / f"upload-{batch.pk}"
    strip = ingest.QUARANTINE_COLUMNS if batch.channel == Channel.RESUBMIT else ()
    keep_upload = False
    try:
        with recovery.heartbeat():
            work.mkdir(mode=0o700, exist_ok=True)
            try:
                path = uploads.upload_decrypt(stored, work / f"source{stored.suffix}")
            except (uploads.UploadUnreadable, FileNotFoundError) as exc:
                lost = isinstance(exc, FileNotFoundError)
                Batch.objects.filter(pk=batch.pk).update(
                    status=BatchStatus.FAILED,
                    error=recovery.UPLOAD_LOST if lost else UPLOAD_UNREADABLE,
                    worker_pid=None,
                )
                return None
            return ingest.ingest_file(
                contract=contract,
                path=path,
                fmt=stored.suffix.lstrip("."),
                department=batch.department,
                steward=batch.steward,
                submitted_by=batch.submitted_by,
                channel=batch.channel,
                source_name=batch.source_name,
                batch=batch,
                strip_columns=strip,
            )
    except (ServiceError, sources.SourceError):
        return None  # recorded on the batch as failed, with its message
    except (KeyboardInterrupt, SystemExit, duckdb.InterruptException):
        # The worker is stopping at once (DuckDB notices the interpreter shutting down): back
        # to the queue for the next worker, upload kept.
        keep_upload = recovery.batch_requeue_interrupted(batch.pk)
        raise
    finally:
        lake.remove_tree(work)
        if not keep_upload:
            stored.unlink(missing_ok=True)


def quarantine_resubmit(*, actor: User, batch_id: int, upload: UploadedFile) -> Batch:
    """A steward sends back corrected quarantine rows (our download, edited): a new batch."""
    original = access_owned_batch_by_id(actor, batch_id)
    return batch_queue_upload(
        actor=actor, token=None, dataset=original.dataset, upload=upload, channel=Channel.RESUBMIT
    )


@transaction.atomic
def batch_retract(*, actor: User | None, batch_id: int, reason: str) -> Batch:
    if actor is not None:
        batch = access_owned_batch_by_id(actor, batch_id, for_update=True)
    else:  # the CLI, for operators
        found = Batch.objects.select_for_update().filter(pk=batch_id).first()
        if found is None:
            raise NotFound
        batch = found
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("batch.reason_required", "撤回批次必须说明原因", field="reason")
    if len(reason) > 500:
        raise ServiceError("batch.reason_too_long", "撤回原因不能超过500字", field="reason")
    if batch.status != BatchStatus.PUBLISHED:
        raise ServiceError("batch.not_published", "只能撤回已发布的批次", field="batch")
    batch.status = BatchStatus.RETRACTED
    batch.retracted_at = timezone.now()
    batch.retracted_by = actor
    batch.retract_reason = reason
    batch.save(update_fields=["status", "retracted_at", "retracted_by", "retract_reason"])
    audit_record(
        actor=actor,
        action="exchange.batch.retract",
        object_type="batch",
        object_id=batch.pk,
        purpose=Purpose.ADMINISTRATION,
        detail={"dataset": batch.dataset, "reason": reason},
    )
    hooks.batch_changed(batch)  # readers of the lake see it gone: the same reactions
    return batch


@transaction.atomic
def agreement_create(
    *,
    actor: User | None,
    consumer_code: str,
    dataset: str,
    purpose: str,
    fields: list[str],
    scope: str,
    legal_basis: str = "",
    valid_from: date | None = None,
    valid_to: date | None = None,
) -> SharingAgreement:
    if actor is not None and not is_admin(actor):
        raise AccessDenied
    contract = contract_or_error(dataset)
    consumer = Department.objects.filter(code=consumer_code).first()
    if consumer is None:
        raise ServiceError("department.unknown", f"未知部门:{consumer_code}", field="consumer")
    if purpose not in PURPOSE_LABELS:
        raise ServiceError("agreement.purpose", "用途应为核对、预警或监督", field="purpose")
    allowed = set(contract.purpose_fields(purpose))
    if not allowed:
        raise ServiceError(
            "agreement.purpose_not_allowed",
            f"约定不允许将“{contract.title}”用于该用途",
            field="purpose",
        )
    fields = list(dict.fromkeys(fields or []))
    extra = [f for f in fields if f not in allowed]
    if not fields or extra:
        raise ServiceError(
            "agreement.fields",
            "可读字段必须是约定为该用途开放的字段"
            + (f",不允许:{'、'.join(extra)}" if extra else ""),
            field="fields",
        )
    if valid_to is not None and valid_from is not None and valid_to < valid_from:
        raise ServiceError("agreement.dates", "失效日期早于生效日期", field="valid_to")
    agreement = SharingAgreement.objects.create(
        consumer=consumer,
        dataset=dataset,
        purpose=purpose,
        fields=fields,
        scope=scope[:200],
        legal_basis=legal_basis[:200],
        valid_from=valid_from or timezone.localdate(),
        valid_to=valid_to,
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="exchange.agreement.create",
        object_type="agreement",
        object_id=agreement.pk,
        purpose=Purpose.ADMINISTRATION,
        detail={
            "consumer": consumer_code,
            "dataset": dataset,
            "purpose": purpose,
            "fields": fields,
        },
    )
    return agreement


@transaction.atomic
def agreement_revoke(*, actor: User | None, agreement_id: int) -> SharingAgreement:
    if actor is not None and not is_admin(actor):
        raise AccessDenied
    agreement = SharingAgreement.objects.select_for_update().filter(pk=agreement_id).first()
    if agreement is None:
        raise NotFound
    if agreement.revoked_at is None:
        agreement.revoked_at = timezone.now()
        agreement.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="exchange.agreement.revoke",
            object_type="agreement",
            object_id=agreement.pk,
            purpose=Purpose.ADMINISTRATION,
        )
    return agreement
