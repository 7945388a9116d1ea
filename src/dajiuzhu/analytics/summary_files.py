"""The lake summaries' files: where they live, how they are written and read.

A summary is kept under a name derived from the exact set of published batches it was
computed from (``lake/_summaries/<name>/<digest>.arrow``), so a reader knows at once whether
the file matches its snapshot. The file is an uncompressed Arrow IPC file sorted by person: a
reader memory-maps it, finds its persons by binary search and takes just their rows. (Parquet
does not serve this: the persons a rule asks for are spread over every page, so every column
would be decoded whole.) Money is kept as integer cents in the file and handed out as
``decimal(18,2)``.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from dajiuzhu.exchange import lake as lake_files

# A superseded file is removed only when it is this old: a scan that took its snapshot before
# the new file appeared may still be reading it.
KEEP_SUPERSEDED_SECONDS = 3600


def summary_dir(name: str) -> Path:
    return lake_files.lake_root() / "_summaries" / name


def summary_path(name: str, batch_ids: list[int]) -> Path:
    """Where the summary computed from exactly these published batches is kept."""
    listing = ",".join(str(i) for i in sorted(batch_ids))
    digest = hashlib.sha256(listing.encode()).hexdigest()[:24]
    return summary_dir(name) / f"{digest}.arrow"


def write(path: Path, reader: pa.RecordBatchReader) -> None:
    """Write the rows (money already in cents) to ``path`` atomically: a reader sees the whole
    file or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + f".{os.getpid()}.writing")
    with pa.OSFile(str(partial), "wb") as sink, pa.ipc.new_file(sink, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)
    os.replace(partial, path)


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
        batch.take(int64_array(rows[bounds[i] : bounds[i + 1]] - summary.starts[i]))
        for i, batch in enumerate(summary.batches)
        if bounds[i + 1] > bounds[i]
    ]
    taken = pa.Table.from_batches(parts, schema=summary.schema)
    columns = {}
    for name, column in zip(taken.column_names, taken.columns, strict=True):
        column = column.combine_chunks()
        columns[name] = decimal_from_cents(column) if name in money else column
    return pa.table(columns)


def int64_array(values: np.ndarray) -> pa.Array:
    """A NumPy integer array as an Arrow int64 array, sharing its memory. (``pa.array`` on a
    NumPy array or a list asks pandas whether it is a categorical, which imports pandas — a
    quarter of a second of a command's start-up — for nothing.)"""
    values = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values)])


def decimal_from_cents(cents: pa.Array) -> pa.Array:
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


def remove_superseded(name: str, *, keep: Path) -> None:
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
