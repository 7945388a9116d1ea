"""The quality figures of a delivery (docs/exchange.md, "Quality"): distinct keys, completeness,
timeliness, overlap with earlier batches, the latest period it covers, and accuracy against 户籍.
Each is one DuckDB query (or one ORM query) over the staged batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dajiuzhu.exchange import lake
from dajiuzhu.exchange.contracts import Contract
from dajiuzhu.exchange.models import Batch, BatchStatus
from dajiuzhu.exchange.validation import q


def sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


KEYS_PER_PASS = 50_000_000  # 400 MB of 64-bit hashes per pass


def distinct_keys(con, raw_keys: list[str], total: int) -> int:
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


def completeness(con, contract: Contract, fields, parquet: str | None, total: int) -> float | None:
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


def timeliness(batch: Batch, contract: Contract) -> float:
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


def overlaps(contract: Contract, con, part: Path) -> bool:
    earlier = lake.active_batches(contract.dataset)
    files = [f for b in earlier for f in b.files]
    if not files:
        return False
    keys = contract.lake_key
    on = " AND ".join(f"n.{q(k)} = o.{q(k)}" for k in keys)
    cols = ", ".join(q(k) for k in keys)
    return bool(
        con.execute(
            f"SELECT EXISTS (SELECT 1 FROM read_parquet('{sql_path(part)}') n "
            f"SEMI JOIN (SELECT {cols} FROM {lake.files_sql(files)}) o ON {on})"
        ).fetchall()[0][0]
    )


def period_max(contract: Contract, con, part: Path) -> str:
    """The latest period the batch's rows are about (e.g. the last wage month), so that a
    check can say when the data do not reach the month it looks at."""
    if contract.period_field is None:
        return ""
    column = q(contract.field(contract.period_field).lake_name)
    value = con.execute(f"SELECT max({column}) FROM read_parquet('{sql_path(part)}')").fetchall()
    return "" if value[0][0] is None else str(value[0][0])[:10]


def accuracy(contract: Contract, con, part: Path) -> float | None:
    """Share of a sample of the batch's people known to the 户籍 dataset (None if unknowable)."""
    if contract.person_field is None or contract.dataset == "hukou":
        return None
    hukou = lake.active_batches("hukou")
    if not hukou:
        return None
    people = lake.current_sql("hukou", batches=hukou)
    value = con.execute(
        f"SELECT avg(CASE WHEN h.person_key IS NULL THEN 0 ELSE 1 END) FROM "
        f"(SELECT person_key FROM read_parquet('{sql_path(part)}') USING SAMPLE 100000 ROWS) s "
        f"LEFT JOIN (SELECT DISTINCT person_key FROM {people}) h USING (person_key)"
    ).fetchall()[0][0]
    return None if value is None else float(value)
