"""The pseudonymous lake: immutable Parquet batches under ``$DAJIUZHU_HOME/lake/<dataset>/``.

Only published, non-retracted batches are read. The *current view* of a dataset is the union
of its batches, with the latest version per natural key when any batch replaced keys of an
earlier one (recorded at publication in ``Batch.overlaps``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
from django.conf import settings

from dajiuzhu.core import crypto
from dajiuzhu.exchange.contracts import Contract, get_contract
from dajiuzhu.exchange.models import Batch, BatchStatus
from dajiuzhu.exchange.validation import LAKE_TYPES, q

META_COLUMNS = ("_batch", "_row")


def lake_root() -> Path:
    return Path(settings.LAKE_DIR)


def staging_root() -> Path:
    """Work space beside the lake (never inside it): staging batches, DuckDB spill files."""
    path = lake_root().parent / "staging"
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def batch_dir(dataset: str, batch_id: int) -> Path:
    return lake_root() / dataset / f"batch={batch_id}"


def batch_files(dataset: str, batch_id: int) -> list[str]:
    return sorted(str(p) for p in batch_dir(dataset, batch_id).glob("*.parquet"))


def connect(*, threads: int | None = None, memory_limit: str = "1GB") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with bounded memory and the pseudonymisation key loaded."""
    con = duckdb.connect(
        config={
            "threads": threads or os.cpu_count() or 2,
            "memory_limit": memory_limit,
            "preserve_insertion_order": False,
        }
    )
    con.execute("SET enable_progress_bar = false")
    tmp = staging_root() / "duckdb-tmp"
    tmp.mkdir(exist_ok=True)
    con.execute(f"SET temp_directory = '{tmp}'")
    key = crypto.index_key().ljust(64, b"\0")
    con.execute("SET VARIABLE djz_ipad = ?", [bytes(b ^ 0x36 for b in key)])
    con.execute("SET VARIABLE djz_opad = ?", [bytes(b ^ 0x5C for b in key)])
    return con


_reads = threading.local()


@contextmanager
def household_reads() -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection for the small reads of one household (a check, a case page's links),
    kept per thread and reused: opening a DuckDB connection and warming it costs about as much
    as the household's two queries. Every read names its files afresh (``current_sql``), so a
    reused connection sees each publication and retraction; one that raised is closed and
    never reused. A different home (lake, key) opens a new one."""
    identity = (str(lake_root()), hashlib.sha256(crypto.index_key()).hexdigest())
    cached = getattr(_reads, "entry", None)
    if cached is None or cached[0] != identity:
        if cached is not None:
            cached[1].close()
        cached = (identity, connect(threads=2, memory_limit="1GB"))
        _reads.entry = cached
    try:
        yield cached[1]
    except BaseException:
        _reads.entry = None
        cached[1].close()
        raise


def person_key_sql(value: str) -> str:
    """HMAC-SHA256(index_key, id_number), first 64 bits as an integer offset by 2^63 — the
    same value as ``core.crypto.person_key`` — computed inside DuckDB (the digest once)."""
    inner = f"sha256(getvariable('djz_ipad') || encode({value}))"
    digest = f"sha256(getvariable('djz_opad') || unhex({inner}))"
    return f"(('0x' || substr({digest}, 1, 16))::UBIGINT::HUGEINT - 9223372036854775808)::BIGINT"


@dataclass(frozen=True)
class BatchRef:
    id: int
    overlaps: bool
    files: tuple[str, ...]


def active_batches(dataset: str) -> list[BatchRef]:
    return active_batches_of([dataset])[dataset]


def active_batches_of(datasets: list[str]) -> dict[str, list[BatchRef]]:
    """The active batches of several datasets with one query (a household check reads ten)."""
    refs: dict[str, list[BatchRef]] = {d: [] for d in datasets}
    for dataset, batch_id, overlaps in (
        Batch.objects.filter(dataset__in=datasets, status=BatchStatus.PUBLISHED, accepted__gt=0)
        .order_by("id")
        .values_list("dataset", "id", "overlaps")
    ):
        refs[dataset].append(BatchRef(batch_id, overlaps, tuple(batch_files(dataset, batch_id))))
    return refs


def empty_sql(contract: Contract) -> str:
    cols = [f"CAST(NULL AS {LAKE_TYPES[f.type]}) AS {q(f.lake_name)}" for f in contract.lake_fields]
    cols += ["CAST(NULL AS BIGINT) AS _batch", "CAST(NULL AS BIGINT) AS _row"]
    return f"(SELECT {', '.join(cols)} WHERE false)"


def files_sql(files: list[str]) -> str:
    listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    return f"read_parquet([{listing}])"


def current_sql(dataset: str, *, batches: list[BatchRef] | None = None) -> str:
    """A SQL table expression for the dataset's current rows (lake columns + _batch, _row)."""
    contract = get_contract(dataset)
    batches = active_batches(dataset) if batches is None else batches
    files = [f for b in batches for f in b.files]
    if not files:
        return empty_sql(contract)
    columns = ", ".join(q(c) for c in [*contract.lake_columns, *META_COLUMNS])
    source = f"(SELECT {columns} FROM {files_sql(files)})"
    if not any(b.overlaps for b in batches):
        return source
    keys = ", ".join(q(k) for k in contract.lake_key)
    return (
        f"(SELECT * FROM {source} QUALIFY row_number() OVER "
        f"(PARTITION BY {keys} ORDER BY _batch DESC, _row DESC) = 1)"
    )


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


CLUSTER_MIN_ROWS = 200_000


def cluster_batch(batch_id: int) -> bool:
    """Rewrite a large batch's file sorted by person_key (same rows, same ``_row``; only the
    order changes), so that looking up a few people reads a few row groups instead of the
    whole column. Run by the worker after publication; the swap is one atomic rename."""
    from dajiuzhu.exchange.contracts import get_contract

    batch = Batch.objects.filter(pk=batch_id).first()
    if batch is None or batch.status != BatchStatus.PUBLISHED or batch.clustered:
        return False
    if batch.accepted < CLUSTER_MIN_ROWS or get_contract(batch.dataset).person_field is None:
        return False
    files = batch_files(batch.dataset, batch.pk)
    if len(files) != 1:
        return False
    source = Path(files[0])
    target = source.with_name(source.name + ".sorting")
    con = connect(memory_limit="1GB")
    try:
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{source}') ORDER BY person_key) TO '{target}' "
            "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000)"
        )
    finally:
        con.close()
    os.replace(target, source)
    Batch.objects.filter(pk=batch.pk).update(clustered=True)
    return True
