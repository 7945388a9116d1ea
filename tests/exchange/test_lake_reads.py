"""The per-thread connection for a household's small lake reads: reused, yet never stale."""

from __future__ import annotations

import os

import duckdb
import pytest

from dajiuzhu.exchange import lake


def _write(path, n: int) -> None:
    """Write ``n`` rows to ``path`` as cluster_batch rewrites a batch: a new file renamed over
    the old one, the same path."""
    tmp = path.with_suffix(".tmp")
    con = duckdb.connect()
    con.execute(f"COPY (SELECT range AS person_key FROM range({n})) TO '{tmp}' (FORMAT parquet)")
    con.close()
    os.replace(tmp, path)


def test_the_connection_is_reused_and_sees_a_rewritten_file(db, tmp_path):
    path = tmp_path / "rows.parquet"
    _write(path, 1)
    with lake.household_reads() as first:
        assert first.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone() == (1,)
    _write(path, 3)
    with lake.household_reads() as again:
        assert again is first
        assert again.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone() == (3,)


def test_a_failed_read_closes_the_connection_and_the_next_is_new(db, tmp_path):
    with lake.household_reads() as first:
        pass
    with pytest.raises(duckdb.Error), lake.household_reads() as con:
        con.execute(f"SELECT * FROM read_parquet('{tmp_path / 'missing.parquet'}')")
    with lake.household_reads() as after:
        assert after is not first
        assert after.execute("SELECT 1").fetchone() == (1,)


def test_another_home_gets_its_own_connection(db, settings, tmp_path):
    with lake.household_reads() as first:
        pass
    settings.LAKE_DIR = str(tmp_path / "other-lake")
    with lake.household_reads() as other:
        assert other is not first
