"""The ingestion pipeline: contract check → row validation → quarantine → pseudonymisation →
an immutable lake batch, published whole.

1. A ``Batch`` row is created (status ``receiving``); a file identical to a published one
   becomes a ``duplicate`` record and loads nothing.
2. The header is compared with the contract: missing or unexpected columns refuse the file.
3. One DuckDB pass writes the accepted rows (typed, ``id_number`` → ``person_key``, within-file
   duplicate keys resolved to the last row) into a staging folder; a second writes the
   rejected rows with their problems beside it (outside the lake).
4. Publication, in one database transaction: overlap with earlier batches, quality figures,
   quarantine rows (original values encrypted), the registry feed (户籍, 死亡), the move of
   the staging folder into ``lake/<dataset>/batch=<id>/`` and the status flip. Readers list
   published batches only, so a batch is seen whole or not at all; any failure leaves a
   ``failed`` record and no files.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from django.db import transaction
from django.utils import timezone

from dajiuzhu.core import crypto
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.models import Department, User
from dajiuzhu.core.roles import Purpose
from dajiuzhu.core.services import ServiceError
from dajiuzhu.exchange import lake, sources
from dajiuzhu.exchange.contracts import Contract
from dajiuzhu.exchange.models import Batch, BatchStatus, DatasetState, QuarantineRow
from dajiuzhu.exchange.validation import q, row_sql

log = logging.getLogger("dajiuzhu.exchange")

# Columns our quarantine downloads add; dropped when a steward sends the file back corrected.
QUARANTINE_COLUMNS = ("_数据行号", "_问题说明")
MAX_QUARANTINE = 1_000_000
INGEST_MEMORY = "1400MB"  # DuckDB's share: the process stays under 2 GiB whatever the file
QUARANTINE_CHUNK = 5_000
# Hooks run after a batch of a dataset is published (e.g. real-time warning rules).
PUBLISH_HOOKS: dict[str, list[Callable[[int], None]]] = {}


def on_publish(dataset: str, hook: Callable[[int], None]) -> None:
    PUBLISH_HOOKS.setdefault(dataset, []).append(hook)


class ContractMismatch(ServiceError):
    def __init__(self, missing: list[str], unexpected: list[str]) -> None:
        parts = []
        if missing:
            parts.append("缺少列:" + "、".join(missing))
        if unexpected:
            parts.append("多余列:" + "、".join(unexpected))
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
        return out


def _today() -> date:
    return timezone.localdate()


def check_columns(contract: Contract, columns: list[str]) -> None:
    expected = contract.columns
    missing = [c for c in expected if c not in columns]
    unexpected = [c for c in columns if c not in expected]
    if missing or unexpected:
        raise ContractMismatch(missing, unexpected)
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
        source_name=source_name[:255],
        source_sha256=sha256,
        status=status,
        received_at=timezone.now(),
        worker_pid=os.getpid(),
        upload_path=upload_path,
    )


def _fail(batch: Batch, message: str, staging: Path | None) -> None:
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
        _fail(batch, exc.message, staging)
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
    except ServiceError as exc:
        _fail(batch, exc.message, staging)
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
            f"read_parquet('{_path_sql(path)}', file_row_number=true))"
        )
        return sources.Source(columns=columns, sql=sql, parquet=_path_sql(path))
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
        header, _rows = sources.xlsx_rows(path)
        check_columns(contract, [c for c in header if c not in strip])
        sources.xlsx_to_parquet(path, contract.columns, staged, strip=strip)
        encoding = ""
    return sources.Source(
        columns=contract.columns,
        sql=f"read_parquet('{_path_sql(staged)}')",
        encoding=encoding,
        parquet=_path_sql(staged),
    )


def _path_sql(path: Path) -> str:
    return str(path).replace("'", "''")


def _run(
    batch: Batch, contract: Contract, source: sources.Source, staging: Path, started: float
) -> IngestResult:
    Batch.objects.filter(pk=batch.pk).update(status=BatchStatus.RECEIVING)
    con = lake.connect(memory_limit=INGEST_MEMORY)
    try:
        if source.arrow is not None:
            con.register("src_rows", source.arrow)
        con.execute(f"CREATE TEMP VIEW src AS SELECT * FROM {source.sql}")
        types = {name: typ for name, typ, *_ in con.execute("DESCRIBE src").fetchall()}
        sql = row_sql(
            contract,
            types,
            today=_today(),
            now=timezone.localtime(),
            person_key_sql=lake.person_key_sql,
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
        distinct_keys = _distinct_keys(con, raw_keys, total)

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
            f"TO '{_path_sql(part)}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 500000)"
        ).fetchall()[0][0]
        raw = ", ".join(f"CAST(v.{q(c)} AS VARCHAR) AS {q(c)}" for c in contract.columns)
        quarantine = staging / "quarantine.parquet"
        rejected = 0
        if dedup or accepted < total:  # a clean file (the usual case) needs no second pass
            rejected = con.execute(
                f"COPY (SELECT _row, {sql.problems} AS _problems, {raw} FROM v WHERE _bad "
                f"ORDER BY _row) TO '{_path_sql(quarantine)}' (FORMAT parquet)"
            ).fetchall()[0][0]
        if rejected > MAX_QUARANTINE:
            raise ServiceError(
                "batch.too_many_rejects",
                f"有{rejected}行不符合约定(超过{MAX_QUARANTINE}行),整个文件被拒收,请检查文件是否正确",
            )
        completeness = _completeness(con, contract, fields, source.parquet, total)
        batch.rows, batch.accepted, batch.rejected = total, accepted, rejected
        batch.replaced_in_file = total - rejected - accepted
        batch.completeness = completeness
        batch.validity = ((total - rejected) / total) if total else None
        _publish(batch, contract, con, staging, part if accepted else None, quarantine, fields)
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


KEYS_PER_PASS = 50_000_000  # 400 MB of 64-bit hashes per pass


def _distinct_keys(con, raw_keys: list[str], total: int) -> int:
    """How many distinct natural keys the delivery holds, from a 64-bit hash of the
    normalised key (a collision only sends the load down the careful, de-duplicating path).

    The hashes are streamed into a NumPy array and sorted — far cheaper in memory than a
    hash table of 60 million keys — in passes over slices of the hash space for very large
    files, so memory stays bounded whatever the file's size."""
    key = f"hash({', '.join(raw_keys)})"
    passes = max(1, -(-total // KEYS_PER_PASS))
    capacity = total if passes == 1 else int(total / passes * 1.1) + 1_000_000
    buffer = np.empty(capacity, dtype=np.uint64)  # filled in place: no second copy
    distinct = 0
    for i in range(passes):
        where = f" WHERE h % {passes} = {i}" if passes > 1 else ""
        reader = con.sql(f"SELECT h FROM (SELECT {key} AS h FROM src){where}").to_arrow_reader(
            1_000_000
        )
        filled = 0
        for batch in reader:
            values = batch.column(0).to_numpy()
            if filled + len(values) > len(buffer):  # a skewed slice: grow (rare)
                buffer = np.concatenate([buffer[:filled], np.empty(len(buffer), np.uint64)])
            buffer[filled : filled + len(values)] = values
            filled += len(values)
        hashes = buffer[:filled]
        hashes.sort()
        distinct += int(filled and 1 + np.count_nonzero(hashes[1:] != hashes[:-1]))
    return distinct


def _completeness(con, contract: Contract, fields, parquet: str | None, total: int) -> float | None:
    """Share of filled cells. From the Parquet footer's null counts when the source is a
    Parquet file (the delivery itself, or the staging file CSV/XLSX become, where empty
    cells are nulls); counted otherwise (JSON rows)."""
    if not total:
        return None
    columns = contract.columns
    if parquet is not None:
        listing = ", ".join(f"'{c}'" for c in columns)
        nulls = con.execute(
            f"SELECT coalesce(sum(stats_null_count), 0), count(stats_null_count), count(*) "
            f"FROM parquet_metadata('{parquet}') WHERE path_in_schema IN ({listing})"
        ).fetchall()[0]
        if nulls[1] == nulls[2]:  # every column chunk has statistics
            return 1 - nulls[0] / (total * len(columns))
    filled = con.execute(
        f"SELECT {', '.join(f'count({fields[c].text_expr})' for c in columns)} FROM src"
    ).fetchall()[0]
    return sum(filled) / (total * len(columns))


def _timeliness(batch: Batch, contract: Contract) -> float:
    days = contract.cycle_days
    if days is None:
        return 1.0
    previous = (
        Batch.objects.filter(
            dataset=batch.dataset,
            department=batch.department,
            status=BatchStatus.PUBLISHED,
            id__lt=batch.pk,
        )
        .order_by("-received_at")
        .first()
    )
    if previous is None:
        return 1.0
    gap = (batch.received_at - previous.received_at).total_seconds() / 86400
    allowed = days + (1 if days == 1 else 0)  # a day's grace for daily and real-time data
    late = max(0.0, gap - allowed)
    return max(0.0, 1.0 - late / allowed)


def _overlaps(contract: Contract, con, part: Path) -> bool:
    earlier = lake.active_batches(contract.dataset)
    files = [f for b in earlier for f in b.files]
    if not files:
        return False
    keys = contract.lake_key
    on = " AND ".join(f"n.{q(k)} = o.{q(k)}" for k in keys)
    cols = ", ".join(q(k) for k in keys)
    return bool(
        con.execute(
            f"SELECT EXISTS (SELECT 1 FROM read_parquet('{_path_sql(part)}') n "
            f"SEMI JOIN (SELECT {cols} FROM {lake.files_sql(files)}) o ON {on})"
        ).fetchall()[0][0]
    )


def _period_max(contract: Contract, con, part: Path) -> str:
    """The latest period the batch's rows are about (e.g. the last wage month), so that a
    check can say when the data do not reach the month it looks at."""
    if contract.period_field is None:
        return ""
    column = q(contract.field(contract.period_field).lake_name)
    value = con.execute(f"SELECT max({column}) FROM read_parquet('{_path_sql(part)}')").fetchall()
    return "" if value[0][0] is None else str(value[0][0])[:10]


def _accuracy(contract: Contract, con, part: Path) -> float | None:
    """Share of a sample of the batch's people known to the 户籍 dataset (None if unknowable)."""
    if contract.person_field is None or contract.dataset == "hukou":
        return None
    hukou = lake.active_batches("hukou")
    if not hukou:
        return None
    people = lake.current_sql("hukou", batches=hukou)
    value = con.execute(
        f"SELECT avg(CASE WHEN h.person_key IS NULL THEN 0 ELSE 1 END) FROM "
        f"(SELECT person_key FROM read_parquet('{_path_sql(part)}') USING SAMPLE 100000 ROWS) s "
        f"LEFT JOIN (SELECT DISTINCT person_key FROM {people}) h USING (person_key)"
    ).fetchall()[0][0]
    return None if value is None else float(value)


def _quarantine_rows(batch: Batch, quarantine: Path, contract: Contract) -> Iterator[QuarantineRow]:
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


def _publish(
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
            batch.overlaps = bool(part) and _overlaps(contract, con, part)
            batch.period_max = _period_max(contract, con, part) if part else ""
            batch.accuracy = _accuracy(contract, con, part) if part else None
            batch.timeliness = _timeliness(batch, contract)
            if batch.rejected:
                pending: list[QuarantineRow] = []
                for qrow in _quarantine_rows(batch, quarantine, contract):
                    pending.append(qrow)
                    if len(pending) >= QUARANTINE_CHUNK:
                        QuarantineRow.objects.bulk_create(pending)
                        pending = []
                QuarantineRow.objects.bulk_create(pending)
            if contract.feeds_registry and part is not None:
                _feed_hukou(batch, con, fields)
            if contract.dataset == "deaths" and part is not None:
                _feed_deaths(batch, con, part)
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
            for hook in PUBLISH_HOOKS.get(contract.dataset, []):
                transaction.on_commit(lambda h=hook: h(batch.pk))
    except BaseException:  # undo the move so that nothing of the batch remains, then re-raise
        if moved:
            lake.remove_tree(final)
        raise


def _feed_hukou(batch: Batch, con, fields) -> None:
    from dajiuzhu.registry.bulk import HukouRow
    from dajiuzhu.registry.services import hukou_sync

    names = [
        "id_number",
        "name",
        "sex",
        "birth_date",
        "household_no",
        "relation_to_head",
        "division_code",
        "address",
        "status",
    ]
    select = ", ".join(f"{fields[n].value} AS {q(n)}" for n in names)
    key = fields["id_number"].value
    cursor = con.execute(
        f"SELECT {select} FROM v WHERE NOT _bad "
        f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY _row DESC) = 1"
    )

    def rows() -> Iterator[HukouRow]:
        while chunk := cursor.fetchmany(20_000):
            for r in chunk:
                yield HukouRow(
                    id_number=r[0],
                    name=r[1],
                    sex=r[2],
                    birth_date=r[3],
                    household_no=r[4],
                    relation=r[5],
                    division_code=r[6],
                    address=r[7] or "",
                    status=r[8],
                )

    hukou_sync(rows=rows(), as_of=timezone.localdate(), source=f"batch:{batch.pk}")


def _feed_deaths(batch: Batch, con, part: Path) -> None:
    from dajiuzhu.registry.services import deaths_sync

    cursor = con.execute(f"SELECT person_key, death_date FROM read_parquet('{_path_sql(part)}')")

    def deaths() -> Iterator[tuple[int, date]]:
        while chunk := cursor.fetchmany(20_000):
            yield from chunk

    deaths_sync(deaths=deaths(), source=f"batch:{batch.pk}")


def recover_stale(*, older_than_hours: float = 6.0) -> int:
    """Batches left 'receiving' by a crashed process become failed; their staging is removed."""
    cutoff = timezone.now() - timedelta(hours=older_than_hours)
    recovered = 0
    for batch in Batch.objects.filter(status=BatchStatus.RECEIVING):
        alive = batch.worker_pid is not None and _pid_alive(batch.worker_pid)
        if alive and batch.received_at > cutoff:
            continue
        _fail(
            batch,
            "处理中断(进程退出),未入库任何数据,请重新提交",
            lake.staging_root() / f"batch-{batch.pk}",
        )
        recovered += 1
    return recovered


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
