"""The ingestion pipeline: contract check → row validation → quarantine → pseudonymisation →
an immutable lake batch, published whole.

1. A ``Batch`` row is created (status ``receiving``); a file identical to a published one
   becomes a ``duplicate`` record and loads nothing.
2. The header is compared with the contract: missing or unexpected columns refuse the file.
3. One DuckDB pass writes the accepted rows (typed, ``id_number`` → ``person_key``, within-file
   duplicate keys resolved to the last row) into a staging folder; a second writes the
   rejected rows with their problems beside it (outside the lake).
4. Publication (``exchange.publication``), in one database transaction: the quality figures
   (``exchange.quality``), quarantine rows (original values encrypted), the in-transaction
   publish hooks (the registry's feeds, ``exchange.feeds``), the move of the staging folder
   into ``lake/<dataset>/batch=<id>/`` and the status flip; the after-commit hooks
   (``exchange.hooks``) run once it is visible. Readers list published batches only, so a batch
   is seen whole or not at all; any failure leaves a ``failed`` record and no files.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
from django.utils import timezone

from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.errors import ServiceError
from dajiuzhu.core.models import Department, User
from dajiuzhu.core.roles import Purpose
from dajiuzhu.exchange import lake, publication, quality, recovery, sources
from dajiuzhu.exchange.contracts import Contract
from dajiuzhu.exchange.models import Batch, BatchStatus
from dajiuzhu.exchange.publication import QUARANTINE_CHUNK
from dajiuzhu.exchange.quality import sql_path
from dajiuzhu.exchange.validation import (
    ACCEPTED_LABELS,
    q,
    row_sql,
    source_type_label,
    source_type_ok,
)

log = logging.getLogger("dajiuzhu.exchange")

# Columns our quarantine downloads add; dropped when a steward sends the file back corrected.
QUARANTINE_COLUMNS = ("_数据行号", "_问题说明")
MAX_QUARANTINE = 1_000_000
INGEST_MEMORY = "1400MB"  # DuckDB's share: the process stays under 2 GiB whatever the file


# A header cell shown back to the steward must look like a column name: a file without its
# header row has the first data row (an ID number, a name) where the header should be.
SHOWN_COLUMN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")
SHOWN_COLUMNS = 20
ID_LIKE = re.compile(r"[0-9]{15,17}[0-9Xx]")  # masked in the file names batches keep


def column_list(columns: list[str], titles: dict[str, str] | None = None) -> str:
    """Names of columns for a message: identifier-like names as they are, a contract field's
    Chinese title with the name it should have, and only the count of anything else."""
    titles = titles or {}
    shown, hidden = [], 0
    for c in columns:
        if SHOWN_COLUMN.fullmatch(c):
            shown.append(c)
        elif c in titles:
            shown.append(f"{c}(应为 {titles[c]})")
        else:
            hidden += 1
    text = "、".join(shown[:SHOWN_COLUMNS])
    if len(shown) > SHOWN_COLUMNS:
        text += f"等{len(shown)}列"
    if hidden:
        text += ("," if text else "") + (
            f"另有{hidden}列的列名不像字段名(未显示其内容;文件可能缺少表头行)"
        )
    return text


class ContractMismatch(ServiceError):
    def __init__(
        self, missing: list[str], unexpected: list[str], titles: dict[str, str] | None = None
    ) -> None:
        parts = []
        if missing:
            parts.append("缺少列:" + column_list(missing))
        if unexpected:
            parts.append("多余列:" + column_list(unexpected, titles))
        super().__init__("contract.columns", "文件的列与数据集约定不符," + ";".join(parts))
        self.missing = missing
        self.unexpected = unexpected


@dataclass
class IngestResult:
    batch: Batch

    def summary(self) -> dict:
        b = self.batch
        out = {
            "dataset": b.dataset,
            "batch": b.pk,
            "rows": b.rows,
            "accepted": b.accepted,
            "rejected": b.rejected,
            "seconds": round(b.seconds, 3),
        }
        if b.duplicate_of_id:
            out["duplicate_of"] = b.duplicate_of_id
        if b.note:
            out["note"] = b.note
        return out


def _today() -> date:
    return timezone.localdate()


def check_columns(contract: Contract, columns: list[str]) -> None:
    expected = contract.columns
    missing = [c for c in expected if c not in columns]
    unexpected = [c for c in columns if c not in expected]
    titles = {f.title: f.name for f in contract.fields}
    if missing and not any(c in expected or c in titles for c in columns):
        # No column is the contract's: the first line is data (a file without its header
        # row) — its cells are never repeated back.
        raise ServiceError(
            "contract.no_header",
            "文件第一行不是表头(没有一个列名与数据集约定相符),请在第一行写上列名:"
            + "、".join(expected),
        )
    if missing or unexpected:
        raise ContractMismatch(missing, unexpected, titles)
    if len(set(columns)) != len(columns):
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        raise ServiceError("contract.duplicate_columns", "文件中有重复的列:" + "、".join(dupes))


def new_batch(
    *,
    contract: Contract,
    department: Department,
    steward: User | None,
    submitted_by: str,
    channel: str,
    source_name: str = "",
    sha256: str = "",
    status: str = BatchStatus.RECEIVING,
    upload_path: str = "",
) -> Batch:
    return Batch.objects.create(
        dataset=contract.dataset,
        department=department,
        steward=steward,
        submitted_by=submitted_by[:100],
        channel=channel,
        source_name=safe_file_name(source_name),  # shown on the batch page
        source_sha256=sha256,
        status=status,
        received_at=timezone.now(),
        worker_pid=os.getpid(),
        # A receiving batch belongs to this process; a queued one to whichever worker claims
        # it (heartbeat_at is then the time it was enqueued). See recovery.py.
        owner=recovery.process_owner() if status == BatchStatus.RECEIVING else "",
        heartbeat_at=timezone.now(),
        upload_path=upload_path,
    )


def safe_file_name(name: str) -> str:
    """A delivery's file name as batches and audit events keep it: ID-like digits masked
    (departments name files after the person: “320402…-熊辉.xlsx”)."""
    return ID_LIKE.sub("…", name)[:255]


def _fail(batch: Batch, message: str, staging: Path | None, *, code: str = "") -> None:
    """Record the failure. ``message`` is one of our own (row, column, reason), never an
    exception's text: readers' and DuckDB's messages quote the rows."""
    log.warning(
        "exchange.batch.failed",
        extra={"dataset": batch.dataset, "batch": batch.pk, "code": code or "internal"},
    )
    if staging is not None:
        lake.remove_tree(staging)
    Batch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.FAILED, error=message[:2000], worker_pid=None
    )
    batch.status = BatchStatus.FAILED
    batch.error = message


def _duplicate_of(contract: Contract, sha256: str) -> Batch | None:
    if not sha256:
        return None
    return (
        Batch.objects.filter(
            dataset=contract.dataset, source_sha256=sha256, status=BatchStatus.PUBLISHED
        )
        .order_by("-id")
        .first()
    )


def ingest_file(
    *,
    contract: Contract,
    path: Path,
    fmt: str | None,
    department: Department,
    steward: User | None,
    submitted_by: str,
    channel: str,
    source_name: str = "",
    batch: Batch | None = None,
    strip_columns: tuple[str, ...] = (),
) -> IngestResult:
    """Ingest one file. Raises ContractMismatch/SourceError (the batch is recorded failed)."""
    started = time.perf_counter()
    sha256 = sources.file_sha256(path)
    if batch is None:
        batch = new_batch(
            contract=contract,
            department=department,
            steward=steward,
            submitted_by=submitted_by,
            channel=channel,
            source_name=source_name or path.name,
            sha256=sha256,
        )
    else:
        Batch.objects.filter(pk=batch.pk).update(
            status=BatchStatus.RECEIVING, source_sha256=sha256, worker_pid=os.getpid()
        )
        batch.refresh_from_db()
    earlier = _duplicate_of(contract, sha256)
    if earlier is not None and not strip_columns:
        return _record_duplicate(batch, earlier, started)
    staging = lake.staging_root() / f"batch-{batch.pk}"
    staging.mkdir(parents=True, exist_ok=True)
    try:
        fmt = sources.detect_format(path, fmt)
        source = _open_file(contract, path, fmt, staging, strip_columns)
        return _run(batch, contract, source, staging, started)
    except (ServiceError, sources.SourceError) as exc:
        _fail(batch, exc.message, staging, code=exc.code)
        raise
    except BaseException as exc:  # record the failure whatever happened, then re-raise
        _fail(batch, f"内部错误:{type(exc).__name__}", staging)
        raise


def ingest_rows(
    *,
    contract: Contract,
    rows: list[dict],
    department: Department,
    steward: User | None,
    submitted_by: str,
    channel: str,
) -> IngestResult:
    """Ingest JSON rows pushed over the API (already size-limited by the caller)."""
    started = time.perf_counter()
    keys = set().union(*(r.keys() for r in rows)) if rows else set()
    unexpected = sorted(keys - set(contract.columns))
    if unexpected:
        raise ContractMismatch([], unexpected)
    batch = new_batch(
        contract=contract,
        department=department,
        steward=steward,
        submitted_by=submitted_by,
        channel=channel,
        source_name="api",
    )
    staging = lake.staging_root() / f"batch-{batch.pk}"
    staging.mkdir(parents=True, exist_ok=True)
    try:
        table = sources.json_rows_table(rows, contract.columns)
        source = sources.Source(columns=contract.columns, sql="src_rows", arrow=table)
        return _run(batch, contract, source, staging, started)
    except (ServiceError, sources.SourceError) as exc:
        _fail(batch, exc.message, staging, code=exc.code)
        raise
    except BaseException as exc:  # record the failure whatever happened, then re-raise
        _fail(batch, f"内部错误:{type(exc).__name__}", staging)
        raise


def _record_duplicate(batch: Batch, earlier: Batch, started: float) -> IngestResult:
    batch.status = BatchStatus.DUPLICATE
    batch.duplicate_of = earlier
    batch.rows, batch.accepted, batch.rejected = earlier.rows, 0, 0
    batch.seconds = time.perf_counter() - started
    batch.worker_pid = None
    batch.save()
    audit_record(
        actor=batch.steward,
        action="exchange.batch.duplicate",
        object_type="batch",
        object_id=batch.pk,
        purpose=Purpose.ADMINISTRATION,
        detail={"dataset": batch.dataset, "duplicate_of": earlier.pk},
        label=batch.submitted_by,
    )
    return IngestResult(batch)


def _open_file(
    contract: Contract, path: Path, fmt: str, staging: Path, strip_columns: tuple[str, ...]
) -> sources.Source:
    strip = set(strip_columns)
    if fmt == "parquet":
        columns = sources.parquet_columns(path)
        check_columns(contract, [c for c in columns if c not in strip])
        cols = ", ".join(q(c) for c in contract.columns)
        sql = (
            f"(SELECT {cols}, file_row_number + 1 AS _row FROM "
            f"read_parquet('{sql_path(path)}', file_row_number=true))"
        )
        return sources.Source(columns=columns, sql=sql, parquet=sql_path(path))
    staged = staging / "source.parquet"
    if fmt == "csv":
        encoding = sources.detect_encoding(path)
        header = sources.csv_header(path, encoding)
        check_columns(contract, [c for c in header if c not in strip])
        if strip:
            sources.guarded_csv_to_parquet(path, encoding, contract.columns, staged, header=header)
        else:
            sources.csv_to_parquet(path, encoding, contract.columns, staged, header=header)
    else:
        sources.xlsx_to_parquet(
            path,
            contract.columns,
            staged,
            strip=strip,
            check_header=lambda header: check_columns(contract, header),
        )
        encoding = ""
    return sources.Source(
        columns=contract.columns,
        sql=f"read_parquet('{sql_path(staged)}')",
        encoding=encoding,
        parquet=sql_path(staged),
    )


def _run(
    batch: Batch, contract: Contract, source: sources.Source, staging: Path, started: float
) -> IngestResult:
    Batch.objects.filter(pk=batch.pk).update(status=BatchStatus.RECEIVING)
    con = lake.connect(memory_limit=INGEST_MEMORY)
    try:
        _load(batch, contract, source, staging, con)
    except duckdb.Error as exc:
        # DuckDB's messages quote values ("Could not convert string '…'"): never shown or
        # logged; what the file holds that DuckDB cannot read is a damaged file.
        log.warning(
            "exchange.batch.engine_error",
            extra={"dataset": batch.dataset, "batch": batch.pk, "error": type(exc).__name__},
        )
        raise sources.SourceError(
            "file.unreadable",
            "文件内容无法读取(文件可能已损坏或不完整),未入库任何数据,请重新导出后上传",
        ) from None
    finally:
        con.close()
    lake.remove_tree(staging)
    batch.seconds = time.perf_counter() - started
    Batch.objects.filter(pk=batch.pk).update(seconds=batch.seconds)
    log.info(
        "exchange.batch.published",
        extra={
            "dataset": batch.dataset,
            "batch": batch.pk,
            "rows": batch.rows,
            "accepted": batch.accepted,
            "rejected": batch.rejected,
        },
    )
    return IngestResult(batch)


def _load(batch: Batch, contract: Contract, source: sources.Source, staging: Path, con) -> None:
    if source.arrow is not None:
        con.register("src_rows", source.arrow)
    con.execute(f"CREATE TEMP VIEW src AS SELECT * FROM {source.sql}")
    types = {name: typ for name, typ, *_ in con.execute("DESCRIBE src").fetchall()}
    check_source_types(contract, types)
    cell_cap = sources.limit("MAX_CELL_BYTES")
    sql = row_sql(
        contract,
        types,
        today=_today(),
        now=timezone.localtime(),
        person_key_sql=lake.person_key_sql,
        cell_cap=cell_cap,
    )
    fields = sql.fields
    if sql.ids_sql:
        con.execute(f"CREATE TEMP TABLE ids AS {sql.ids_sql}")
    con.execute(f"CREATE TEMP VIEW t AS {sql.typed_sql}")
    con.execute(f"CREATE TEMP VIEW v AS SELECT *, {sql.bad} AS _bad FROM t")

    key_values = [fields[k].value for k in contract.natural_key]
    # Statistics straight from the source (no join, no typing): rows, distinct natural
    # keys (normalised as the typed layer does), filled cells per field.
    raw_keys = [
        f"upper({fields[k].text_expr})"
        if contract.field(k).type == "id_number"
        else fields[k].text_expr
        for k in contract.natural_key
    ]
    total = con.execute("SELECT count(*) FROM src").fetchall()[0][0]
    distinct_keys = quality.distinct_keys(con, raw_keys, total)

    select = []
    for f in contract.lake_fields:
        value = sql.person_key if f.type == "id_number" else fields[f.name].value
        select.append(f"{value} AS {q(f.lake_name)}")
    select.append(f"{batch.pk}::BIGINT AS _batch")
    select.append("_row")
    dedup = ""
    if distinct_keys < total:
        dedup = (
            f" QUALIFY row_number() OVER (PARTITION BY {', '.join(key_values)} "
            f"ORDER BY _row DESC) = 1"
        )
    part = staging / "part-0.parquet"
    accepted = con.execute(
        f"COPY (SELECT {', '.join(select)} FROM v WHERE NOT _bad{dedup}) "
        f"TO '{sql_path(part)}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 500000)"
    ).fetchall()[0][0]
    raw = ", ".join(f"CAST(v.{q(c)} AS VARCHAR) AS {q(c)}" for c in contract.columns)
    quarantine = staging / "quarantine.parquet"
    rejected = 0
    if dedup or accepted < total:  # a clean file (the usual case) needs no second pass
        rejected = con.execute(
            f"COPY (SELECT _row, {sql.problems} AS _problems, {raw} FROM v WHERE _bad "
            f"ORDER BY _row) TO '{sql_path(quarantine)}' "
            f"(FORMAT parquet, ROW_GROUP_SIZE {QUARANTINE_CHUNK})"
        ).fetchall()[0][0]
    if rejected > MAX_QUARANTINE:
        raise ServiceError(
            "batch.too_many_rejects",
            f"有{rejected}行不符合约定(超过{MAX_QUARANTINE}行),整个文件被拒收,请检查文件是否正确",
        )
    if rejected:
        _check_quarantine(con, quarantine, cell_cap)
    completeness = quality.completeness(con, contract, fields, source.parquet, total)
    batch.rows, batch.accepted, batch.rejected = total, accepted, rejected
    batch.replaced_in_file = total - rejected - accepted
    batch.completeness = completeness
    batch.validity = ((total - rejected) / total) if total else None
    publication.publish(
        batch, contract, con, staging, part if accepted else None, quarantine, fields
    )


def check_source_types(contract: Contract, types: dict[str, str]) -> None:
    """Refuse a Parquet file whose column types the contract cannot read (a date stored as
    an integer, a name as a list), naming each column and the types it may have."""
    wrong = []
    for f in contract.fields:
        found = types[f.name]
        if not source_type_ok(f.type, found):
            wrong.append(
                f"“{f.name}”({f.title})为 {source_type_label(found)},应为{ACCEPTED_LABELS[f.type]}"
            )
    if wrong:
        raise ServiceError(
            "file.column_types",
            "文件中列的数据类型与约定不符,整个文件被拒收:" + ";".join(wrong),
        )


def _check_quarantine(con, quarantine: Path, cell_cap: int) -> None:
    """A cell over the cap (in a Parquet delivery) or a quarantine too large to keep refuses
    the file: the database does not take megabytes of one file's bad rows."""
    large = con.execute(
        f"SELECT _row, _problems FROM read_parquet('{sql_path(quarantine)}') "
        f"WHERE _problems LIKE '%:too_large%' ORDER BY _row LIMIT 1"
    ).fetchall()
    if large:
        row, problems = large[0]
        field = next(p.split(":")[0] for p in problems.split("|") if p.endswith(":too_large"))
        raise sources.cell_too_large(f"第{row}行“{field}”列", cell_cap)
    cap = sources.limit("MAX_QUARANTINE_BYTES")
    size = con.execute(
        f"SELECT coalesce(sum(total_uncompressed_size), 0) "
        f"FROM parquet_metadata('{sql_path(quarantine)}')"
    ).fetchall()[0][0]
    if size > cap:
        raise ServiceError(
            "batch.quarantine_too_large",
            f"不符合约定的行的内容超过{sources.size_text(cap)},整个文件被拒收,请检查文件是否正确",
        )


def recover_stale() -> int:
    """Batches left 'receiving' by a dead process are put back in the queue (uploads) or
    failed, with their staging removed; see recovery.batches_recover."""
    return recovery.batches_recover().recovered
