"""Summaries the lake keeps beside a large dataset, for rules that read it for a few people.

A summary is a pure function of a dataset's current view, defined once as an Ibis expression
(:mod:`dajiuzhu.analytics.summary_specs`). The worker writes it after each publication or
retraction of the dataset (:func:`refresh_for`; ``dajiuzhu lake optimize`` does the same), under
a name derived from the exact set of published batches it was computed from
(:mod:`dajiuzhu.analytics.summary_files`). A reader asks
:meth:`~dajiuzhu.analytics.engine.Lake.summary` for some persons and gets the file's rows when
the file matches the batches of its snapshot; otherwise — not yet written, or stale since a
publication or a retraction — the same expression is computed from the current view,
restricted to those persons. Either way the rows are the same; only the speed differs.

This module writes them (it is the only one of the three that needs an engine); the names of
the other two are re-exported for callers.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable

from dajiuzhu.analytics.engine import DuckDBLake
from dajiuzhu.analytics.summary_files import (
    KEEP_SUPERSEDED_SECONDS,
    SummaryFile,
    open_file,
    read,
    remove_superseded,
    summary_dir,
    summary_path,
    take,
    write,
)
from dajiuzhu.analytics.summary_specs import MONEY, MONTHS, SUMMARIES, Summary
from dajiuzhu.exchange.validation import q

__all__ = [
    "KEEP_SUPERSEDED_SECONDS",
    "MONEY",
    "MONTHS",
    "SUMMARIES",
    "Summary",
    "SummaryFile",
    "open_file",
    "read",
    "refresh",
    "refresh_all",
    "refresh_for",
    "summary_dir",
    "summary_path",
    "take",
]

log = logging.getLogger("dajiuzhu.analytics")

WRITE_BATCH_ROWS = 500_000


def refresh(name: str) -> bool:
    """Write the summary for the dataset's current batches unless it is there already (True:
    written). Superseded files are removed once nobody can still be reading them."""
    spec = SUMMARIES[name]
    started = time.perf_counter()
    with DuckDBLake(memory_limit=os.environ.get("DAJIUZHU_SUMMARY_MEMORY", "1GB")) as lake:
        ids = lake.batch_ids(spec.dataset)
        path = summary_path(name, ids)
        written = False
        if ids and not path.exists():
            expr = spec.build(lake.table(spec.dataset)).order_by(*spec.order)
            columns = ", ".join(
                f"CAST({q(c)} * 100 AS BIGINT) AS {q(c)}" if t.is_decimal() else q(c)
                for c, t in expr.schema().items()
            )
            sql = f"SELECT {columns} FROM ({lake.backend.compile(expr)})"
            write(path, lake.con.sql(sql).to_arrow_reader(WRITE_BATCH_ROWS))
            written = True
    remove_superseded(name, keep=path)
    if written:
        log.info(
            "analytics.summary.written",
            extra={"summary": name, "batches": len(ids), "seconds": time.perf_counter() - started},
        )
    return written


def refresh_for(dataset: str, names: Iterable[str] | None = None) -> list[str]:
    """Refresh the summaries of ``dataset`` (those named, or all of them); the names of those
    written."""
    wanted = SUMMARIES if names is None else set(names)
    return [
        s.name
        for s in SUMMARIES.values()
        if s.dataset == dataset and s.name in wanted and refresh(s.name)
    ]


def refresh_all(names: Iterable[str] | None = None) -> list[str]:
    """Refresh the summaries named (default: every one); the names of those written."""
    return [name for name in (SUMMARIES if names is None else names) if refresh(name)]
