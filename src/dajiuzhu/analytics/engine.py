"""Engine selection and the lake's current views as Ibis tables.

One rule, two engines:

* **DuckDB** (default): a :func:`dajiuzhu.exchange.lake.connect` connection (bounded memory,
  the pseudonymisation key loaded) wrapped with ``ibis.duckdb.from_connection``; each dataset's
  current view is a temporary view over :func:`dajiuzhu.exchange.lake.current_sql`.
* **Spark** (``DAJIUZHU_ENGINE=spark`` or ``engine="spark"``): a local SparkSession (see
  :mod:`dajiuzhu.analytics.spark`) reads the same published batch files; when a batch replaced
  keys of an earlier one, the latest version per natural key is kept with the same ordering
  as the DuckDB view (``_batch`` then ``_row``, descending). Each view is registered as a
  temporary view for ``ibis.pyspark``.

A :class:`Lake` takes a snapshot of the published batches the first time it reads a dataset,
so every expression evaluated through one lake sees the same data even if a batch is published
or retracted meanwhile.
"""

from __future__ import annotations

import abc
import contextlib
import itertools
import os
import threading
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Self

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from dajiuzhu.analytics import lazy_ibis, summary_files
from dajiuzhu.analytics.summary_specs import SUMMARIES
from dajiuzhu.core.errors import ServiceError
from dajiuzhu.exchange import lake as lake_files
from dajiuzhu.exchange.contracts import get_contract
from dajiuzhu.exchange.lake import META_COLUMNS, BatchRef
from dajiuzhu.exchange.validation import LAKE_TYPES, q

ENGINES = ("duckdb", "spark")
DEFAULT_ENGINE = "duckdb"
_view_ids = itertools.count(1)


class EngineError(ServiceError):
    """The requested engine is unknown or not installed (a clear message, never a traceback)."""


def spark_available() -> tuple[bool, str]:
    """Whether PySpark and a Java runtime are present (and if not, why)."""
    from dajiuzhu.analytics import spark

    return spark.available()


def engine_name(engine: str | None = None) -> str:
    """The engine to use: the argument, else ``DAJIUZHU_ENGINE``, else DuckDB."""
    name = (engine or os.environ.get("DAJIUZHU_ENGINE") or DEFAULT_ENGINE).strip().lower()
    if name not in ENGINES:
        raise EngineError(
            "engine.unknown", f"未知的计算引擎:{name}(可选:{'、'.join(ENGINES)})", field="engine"
        )
    if name == "spark":
        ok, why = spark_available()
        if not ok:
            raise EngineError("engine.unavailable", f"Spark 引擎不可用:{why}", field="engine")
    return name


class Lake(abc.ABC):
    """The lake's current views as Ibis tables on one engine. Use as a context manager."""

    engine: str
    backend: Any

    def __init__(self) -> None:
        self._snapshot: dict[str, list[BatchRef]] = {}
        self._tables: dict[str, ir.Table] = {}

    # -- data --------------------------------------------------------------------------
    def batches(self, dataset: str) -> list[BatchRef]:
        """The published batches of ``dataset`` as seen by this lake (taken once)."""
        if dataset not in self._snapshot:
            self._snapshot[dataset] = lake_files.active_batches(dataset)
        return self._snapshot[dataset]

    def batch_ids(self, dataset: str) -> list[int]:
        return [b.id for b in self.batches(dataset)]

    def table(self, dataset: str) -> ir.Table:
        """The dataset's current view: contract lake columns (``person_key`` for the ID
        number) plus ``_batch`` and ``_row``."""
        if dataset not in self._tables:
            get_contract(dataset)  # unknown dataset: ContractError
            self._tables[dataset] = self._register(dataset, self.batches(dataset))
        return self._tables[dataset]

    @abc.abstractmethod
    def _register(self, dataset: str, batches: list[BatchRef]) -> ir.Table: ...

    def summary_file(self, name: str) -> Path | None:
        """The file of summary ``name`` computed from exactly the batches of this lake's
        snapshot, if the worker has written it (see :mod:`dajiuzhu.analytics.summaries`)."""
        path = summary_files.summary_path(name, self.batch_ids(SUMMARIES[name].dataset))
        return path if path.is_file() else None

    def summary(self, name: str, persons: ir.Table) -> ir.Table:
        """The rows of summary ``name`` for ``persons`` (a table with ``person_key``): taken
        from its file when that matches this snapshot, else computed from the current view
        restricted to those persons — the same rows either way."""
        spec = SUMMARIES[name]
        path = self.summary_file(name)
        if path is None:
            return spec.build(self.table(spec.dataset).semi_join(persons, "person_key"))
        wanted = self.to_arrow(persons.select("person_key")).column("person_key")
        money = {
            c for c, t in spec.build(self.table(spec.dataset)).schema().items() if t.is_decimal()
        }
        return self.arrow_table(
            summary_files.take(
                summary_files.read(path), wanted.to_numpy(zero_copy_only=False), money
            )
        )

    # -- evaluation --------------------------------------------------------------------
    def to_arrow(self, expr: ir.Table) -> pa.Table:
        return self.backend.to_pyarrow(expr)

    @staticmethod
    def _as_ibis_types(table: pa.Table, expr: ir.Table) -> pa.Table:
        """The table in Ibis's schema of ``expr``, so that both engines hand back the same types
        (cast only when they differ: a cast loads ``pyarrow.compute``)."""
        schema = expr.schema().to_pyarrow()
        if table.schema.equals(schema, check_metadata=False):
            return table
        return table.cast(schema)

    def to_rows(self, expr: ir.Table) -> list[dict[str, Any]]:
        return self.to_arrow(expr).to_pylist()

    def scalar(self, expr: ir.Scalar) -> Any:
        value = self.backend.to_pyarrow(expr)
        return value.as_py() if hasattr(value, "as_py") else value

    @abc.abstractmethod
    def cache(self, expr: ir.Table) -> ir.Table:
        """Materialise an intermediate result once (a table on DuckDB, a persisted DataFrame
        on Spark); released when the lake closes."""

    def prefetch(self, expr: ir.Table) -> Callable[[], ir.Table]:
        """Start materialising ``expr``; the returned callable waits for it and gives the
        table. Here synchronously; DuckDB overlaps it with the caller's work."""
        table = self.cache(expr)
        return lambda: table

    def keys_table(self, person_keys: Iterable[int]) -> ir.Table:
        """A one-column table of person keys (for restricting a rule to some persons)."""
        keys = np.unique(np.fromiter((int(k) for k in person_keys), dtype=np.int64))
        return self.arrow_table(pa.table({"person_key": summary_files.int64_array(keys)}))

    def arrow_table(self, table: pa.Table) -> ir.Table:
        """A small Arrow table (fetched earlier in the scan) as an Ibis table on this engine."""
        name = f"arrow_{next(_view_ids)}"
        self._register_arrow(name, table)
        return self.backend.table(name)

    @abc.abstractmethod
    def _register_arrow(self, name: str, table: pa.Table) -> None: ...

    # -- life cycle --------------------------------------------------------------------
    def close(self) -> None:
        self._tables.clear()
        self._close()

    @abc.abstractmethod
    def _close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def _quiet():
    """ibis 12 calls DuckDB's deprecated ``fetch_arrow_table()``: harmless, and noisy."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "fetch_arrow_table", DeprecationWarning)
        yield


class DuckDBLake(Lake):
    engine = "duckdb"

    def __init__(self, *, threads: int | None = None, memory_limit: str | None = None) -> None:
        super().__init__()
        memory = memory_limit or os.environ.get("DAJIUZHU_DUCKDB_MEMORY", "2GB")
        self.con = lake_files.connect(threads=threads, memory_limit=memory)
        # Each Parquet footer is parsed once per lake, not once per rule reading the file.
        self.con.execute("SET parquet_metadata_cache = true")
        lazy_ibis.only_needed_compilers()
        self.backend = ibis.duckdb.from_connection(self.con)
        self._workers: list[threading.Thread] = []

    def _register(self, dataset: str, batches: list[BatchRef]) -> ir.Table:
        # Views and cached tables live in this connection's private in-memory database (not
        # TEMP), so that a second cursor of it can read them (see prefetch).
        name = f"lake_{dataset}_{next(_view_ids)}"
        sql = lake_files.current_sql(dataset, batches=batches)
        self.con.execute(f"CREATE OR REPLACE VIEW {q(name)} AS SELECT * FROM {sql}")
        with _quiet():
            return self.backend.table(name)

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        # The compiled query straight through DuckDB's Arrow export (ibis's to_pyarrow adds
        # some 6 ms of bookkeeping per call), in Ibis's schema as on Spark.
        return self._as_ibis_types(self.con.sql(self.backend.compile(expr)).to_arrow_table(), expr)

    def scalar(self, expr: ir.Scalar) -> Any:
        return self.con.execute(self.backend.compile(expr)).fetchall()[0][0]

    def _register_arrow(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)

    def arrow_table(self, table: pa.Table) -> ir.Table:
        with _quiet():
            return super().arrow_table(table)

    def cache(self, expr: ir.Table) -> ir.Table:
        # Ibis's own Table.cache() cannot drop its table with the installed sqlglot; a temp
        # table of the compiled query does the same and goes with the connection.
        name = f"cached_{next(_view_ids)}"
        self.con.execute(f"CREATE TABLE {q(name)} AS {self.backend.compile(expr)}")
        with _quiet():
            return self.backend.table(name)

    def prefetch(self, expr: ir.Table) -> Callable[[], ir.Table]:
        """Run the materialisation on a second cursor in a thread (DuckDB releases the GIL):
        the caller's Python work — building, compiling and converting the other rules — and
        its shorter queries overlap with it. (Only expressions over the lake's views and
        cached tables: registered Arrow tables are visible to the first cursor only.)"""
        name = f"cached_{next(_view_ids)}"
        sql = f"CREATE TABLE {q(name)} AS {self.backend.compile(expr)}"
        cursor = self.con.cursor()
        failure: list[BaseException] = []

        def work() -> None:
            try:
                cursor.execute(sql)
            except BaseException as exc:  # noqa: BLE001 (handed to the caller, re-raised by wait)
                failure.append(exc)
            finally:
                cursor.close()

        worker = threading.Thread(target=work, name=f"duckdb-{name}", daemon=True)
        worker.start()
        self._workers.append(worker)

        def wait() -> ir.Table:
            worker.join()
            if failure:
                raise failure[0]
            with _quiet():
                return self.backend.table(name)

        return wait

    def _close(self) -> None:
        for worker in self._workers:
            worker.join()
        self.con.close()


SPARK_TYPES = {
    "VARCHAR": "STRING",
    "BIGINT": "BIGINT",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP",
    "INTEGER": "INT",
    "DECIMAL(18,2)": "DECIMAL(18,2)",
}


class SparkLake(Lake):
    engine = "spark"

    def __init__(self) -> None:
        super().__init__()
        from dajiuzhu.analytics import spark

        self.session = spark.session()
        self.backend = spark.ibis_backend(self.session)
        self._views: list[str] = []
        self._persisted: list[Any] = []

    def _register(self, dataset: str, batches: list[BatchRef]) -> ir.Table:
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        contract = get_contract(dataset)
        columns = [*contract.lake_columns, *META_COLUMNS]
        files = [f for b in batches for f in b.files]
        if files:
            frame = self.session.read.parquet(*files).select(*columns)
            if any(b.overlaps for b in batches):
                latest = Window.partitionBy(*contract.lake_key).orderBy(
                    F.col("_batch").desc(), F.col("_row").desc()
                )
                frame = (
                    frame.withColumn("_rank", F.row_number().over(latest))
                    .filter(F.col("_rank") == 1)
                    .drop("_rank")
                )
        else:
            types = {f.lake_name: LAKE_TYPES[f.type] for f in contract.lake_fields}
            types.update({"_batch": "BIGINT", "_row": "BIGINT"})
            ddl = ", ".join(f"`{c}` {SPARK_TYPES[types[c]]}" for c in columns)
            frame = self.session.createDataFrame([], schema=ddl)
        name = f"lake_{dataset}_{next(_view_ids)}"
        frame.createOrReplaceTempView(name)
        self._views.append(name)
        return self.backend.table(name)

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        # Straight to Arrow (PySpark 4), not through pandas as ibis.pyspark does; the schema
        # is Ibis's so that both engines hand back the same types.
        return self._as_ibis_types(self.session.sql(self.backend.compile(expr)).toArrow(), expr)

    def scalar(self, expr: ir.Scalar) -> Any:
        return self.session.sql(self.backend.compile(expr)).collect()[0][0]

    def _register_arrow(self, name: str, table: pa.Table) -> None:
        frame = self.session.createDataFrame(table)  # PySpark 4 takes Arrow tables
        frame.createOrReplaceTempView(name)
        self._views.append(name)

    def cache(self, expr: ir.Table) -> ir.Table:
        name = f"cached_{next(_view_ids)}"
        frame = self.session.sql(self.backend.compile(expr)).persist()
        frame.createOrReplaceTempView(name)
        self._views.append(name)
        self._persisted.append(frame)
        return self.backend.table(name)

    def _close(self) -> None:
        for name in self._views:
            self.session.catalog.dropTempView(name)
        for frame in self._persisted:
            frame.unpersist()
        self._views.clear()
        self._persisted.clear()


def open_lake(engine: str | None = None, **options: Any) -> Lake:
    """A :class:`Lake` on the chosen engine (see :func:`engine_name`)."""
    name = engine_name(engine)
    if name == "spark":
        return SparkLake()
    return DuckDBLake(**options)
