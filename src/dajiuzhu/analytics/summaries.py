"""Summaries the lake keeps beside a large dataset, for rules that read it for a few people.

A summary is a pure function of a dataset's current view, defined once as an Ibis expression
(:data:`SUMMARIES`). The worker writes it after each publication or retraction of the dataset
(:func:`refresh_for`; ``dajiuzhu lake optimize`` does the same), under a name derived from the
exact set of published batches it was computed from. A reader asks
:meth:`~dajiuzhu.analytics.engine.Lake.summary` for some persons and gets the file's rows when
the file matches the batches of its snapshot; otherwise — not yet written, or stale since a
publication or a retraction — the same expression is computed from the current view,
restricted to those persons. Either way the rows are the same; only the speed differs.

The file is an uncompressed Arrow IPC file sorted by person: a reader memory-maps it, finds
its persons by binary search and takes just their rows. (Parquet does not serve this: the
persons a rule asks for are spread over every page, so every column would be decoded whole.)
Money is kept as integer cents in the file and handed out as ``decimal(18,2)``.

* ``wages_by_year`` — one row per person and year with the wages of each month (``m01`` …
  ``m12``, the sum over employers; NULL for a month without a wage row): 主要劳动力去世 needs
  the wages of the households of a year's deaths (some 20,000 persons in a city of five
  million), and finding their rows among 56 million wage lines costs a scan half a second.
* ``hukou_by_person`` — the 户籍 details a scan routes its warnings by (birth date, household,
  division, status), one row per person: some 20,000 persons looked up among five million.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from dajiuzhu.exchange import lake as lake_files
from dajiuzhu.exchange.validation import q

log = logging.getLogger("dajiuzhu.analytics")

MONEY = "decimal(18,2)"
MONTHS = tuple(f"m{m:02d}" for m in range(1, 13))
# A superseded file is removed only when it is this old: a scan that took its snapshot before
# the new file appeared may still be reading it.
KEEP_SUPERSEDED_SECONDS = 3600
WRITE_BATCH_ROWS = 500_000


@dataclass(frozen=True)
class Summary:
    name: str
    dataset: str
    build: Callable[[ir.Table], ir.Table]  # the dataset's current view (maybe restricted) → rows
    order: tuple[str, ...]


def wages_by_year(wages: ir.Table) -> ir.Table:
    """Per person and calendar year: the month's wages summed over employers (``m01``…)."""
    year = wages.month.substr(0, 4).cast("int32")
    month = wages.month.substr(5, 2)
    return wages.group_by(person_key=wages.person_key, year=year).aggregate(
        **{name: wages.wage.sum(where=month == name[1:]).cast(MONEY) for name in MONTHS}
    )


def hukou_by_person(hukou: ir.Table) -> ir.Table:
    return hukou.select("person_key", "birth_date", "household_no", "division_code", "status")


SUMMARIES: dict[str, Summary] = {
    "wages_by_year": Summary("wages_by_year", "wages", wages_by_year, ("person_key", "year")),
    "hukou_by_person": Summary("hukou_by_person", "hukou", hukou_by_person, ("person_key",)),
}


def summary_dir(name: str) -> Path:
    return lake_files.lake_root() / "_summaries" / name


def summary_path(name: str, batch_ids: list[int]) -> Path:
    """Where the summary computed from exactly these published batches is kept."""
    listing = ",".join(str(i) for i in sorted(batch_ids))
    digest = hashlib.sha256(listing.encode()).hexdigest()[:24]
    return summary_dir(name) / f"{digest}.arrow"


def refresh(name: str) -> bool:
    """Write the summary for the dataset's current batches unless it is there already (True:
    written). Superseded files are removed once nobody can still be reading them."""
    from dajiuzhu.analytics.engine import DuckDBLake

    spec = SUMMARIES[name]
    started = time.perf_counter()
    with DuckDBLake(memory_limit=os.environ.get("DAJIUZHU_SUMMARY_MEMORY", "1GB")) as lake:
        ids = lake.batch_ids(spec.dataset)
        path = summary_path(name, ids)
        written = False
        if ids and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.name + f".{os.getpid()}.writing")
            expr = spec.build(lake.table(spec.dataset)).order_by(*spec.order)
            schema = expr.schema()
            columns = ", ".join(
                f"CAST({q(c)} * 100 AS BIGINT) AS {q(c)}" if t.is_decimal() else q(c)
                for c, t in schema.items()
            )
            sql = f"SELECT {columns} FROM ({lake.backend.compile(expr)})"
            reader = lake.con.sql(sql).to_arrow_reader(WRITE_BATCH_ROWS)
            with (
                pa.OSFile(str(partial), "wb") as sink,
                pa.ipc.new_file(sink, reader.schema) as writer,
            ):
                for batch in reader:
                    writer.write_batch(batch)
            os.replace(partial, path)
            written = True
    _remove_superseded(name, keep=path)
    if written:
        log.info(
            "analytics.summary.written",
            extra={"summary": name, "batches": len(ids), "seconds": time.perf_counter() - started},
        )
    return written


@dataclass(frozen=True)
class SummaryFile:
    """A summary file, memory-mapped (nothing is read until rows are taken)."""

    schema: pa.Schema
    batches: list[pa.RecordBatch]
    starts: np.ndarray  # the row where each batch starts
    keys: np.ndarray  # person_key of every row, sorted


# The file each summary's readers opened last, per process (one per summary: when a newer file
# is opened the older mapping is let go, so a superseded file's disk space can be freed).
_opened: dict[Path, tuple[Path, SummaryFile]] = {}


def read(path: Path) -> SummaryFile:
    """A summary file, opened once per process (a file never changes: a new one gets a new
    name), so that a long-running worker finds its keys already in memory."""
    last = _opened.get(path.parent)
    if last is not None and last[0] == path:
        return last[1]
    opened = open_file(path)
    _opened[path.parent] = (path, opened)
    return opened


def open_file(path: Path) -> SummaryFile:
    reader = pa.ipc.open_file(pa.memory_map(str(path)))
    batches = [reader.get_batch(i) for i in range(reader.num_record_batches)]
    keys = [b.column("person_key").to_numpy() for b in batches]
    return SummaryFile(
        schema=reader.schema,
        batches=batches,
        starts=np.cumsum([0] + [b.num_rows for b in batches]),
        keys=np.concatenate(keys) if keys else np.empty(0, np.int64),
    )


def take(summary: SummaryFile, persons: np.ndarray, money: set[str]) -> pa.Table:
    """The rows of ``persons`` (a summary has one or a few rows per person, sorted by person),
    with the ``money`` columns turned from cents into ``decimal(18,2)``. Rows are taken batch
    by batch: a take across all batches at once would first concatenate the whole file."""
    persons = np.unique(persons)
    first = np.searchsorted(summary.keys, persons, side="left")
    last = np.searchsorted(summary.keys, persons, side="right")
    counts = last - first
    rows = np.repeat(first - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    bounds = np.searchsorted(rows, summary.starts)  # rows is sorted: split at batch starts
    parts = [
        batch.take(pa.array(rows[bounds[i] : bounds[i + 1]] - summary.starts[i], pa.int64()))
        for i, batch in enumerate(summary.batches)
        if bounds[i + 1] > bounds[i]
    ]
    taken = pa.Table.from_batches(parts, schema=summary.schema)
    columns = {}
    for name, column in zip(taken.column_names, taken.columns, strict=True):
        column = column.combine_chunks()
        columns[name] = _decimal_from_cents(column) if name in money else column
    return pa.table(columns)


def _decimal_from_cents(cents: pa.Array) -> pa.Array:
    """int64 cents as decimal(18,2): a decimal128 holds the unscaled value as a 128-bit
    little-endian integer, i.e. the cents and their sign extension."""
    if cents.offset:
        cents = pa.concat_arrays([cents])  # a copy that starts at offset 0
    values = cents.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    wide = np.empty((len(values), 2), dtype="<i8")
    wide[:, 0] = values
    wide[:, 1] = values >> 63
    validity = cents.buffers()[0] if cents.null_count else None
    return pa.Array.from_buffers(
        pa.decimal128(18, 2),
        len(values),
        [validity, pa.py_buffer(wide.tobytes())],
        null_count=cents.null_count,
    )


def refresh_for(dataset: str) -> list[str]:
    """Refresh every summary of ``dataset``; the names of those written."""
    return [s.name for s in SUMMARIES.values() if s.dataset == dataset and refresh(s.name)]


def refresh_all() -> list[str]:
    return [name for name in SUMMARIES if refresh(name)]


def _remove_superseded(name: str, *, keep: Path) -> None:
    folder = summary_dir(name)
    if not folder.is_dir():
        return
    now = time.time()
    for path in folder.iterdir():
        if path == keep:
            continue
        try:
            if now - path.stat().st_mtime > KEEP_SUPERSEDED_SECONDS:
                path.unlink()
        except FileNotFoundError:  # removed meanwhile by another worker
            pass
