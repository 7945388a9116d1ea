"""The local SparkSession for the Spark engine: one per process, started on first use.

``local[2]`` (``DAJIUZHU_SPARK_MASTER``), few shuffle partitions, no web UI, bounded driver
memory (``DAJIUZHU_SPARK_MEMORY``, default 2g), scratch space beside the lake. PySpark is the
``spark`` extra of the project; it needs a Java runtime (17).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import threading
import warnings
from typing import Any

_lock = threading.Lock()
_session: Any = None
_backend: Any = None


def available() -> tuple[bool, str]:
    if importlib.util.find_spec("pyspark") is None:
        return False, "未安装 pyspark(请安装 spark 扩展:pip install -e '.[spark]')"
    java_home = os.environ.get("JAVA_HOME")
    java = os.path.join(java_home, "bin", "java") if java_home else shutil.which("java")
    if not java or not os.path.exists(java):
        return False, "未找到 Java 运行环境(需要 Java 17)"
    return True, ""


def _quiet_imports() -> None:
    """PySpark warns at import that it does not fully support pandas 3; our Spark path hands
    Arrow/pandas only plain columns (integers, strings, dates, decimals)."""
    warnings.filterwarnings(
        "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
    )


def session():
    """The process's SparkSession (created once)."""
    global _session
    with _lock:
        if _session is not None and not _session.sparkContext._jsc.sc().isStopped():
            return _session
        _quiet_imports()
        logging.getLogger("py4j").setLevel(logging.WARNING)
        from pyspark.sql import SparkSession

        from dajiuzhu.exchange.lake import staging_root

        scratch = staging_root() / "spark-tmp"
        scratch.mkdir(exist_ok=True)
        builder = (
            SparkSession.builder.master(os.environ.get("DAJIUZHU_SPARK_MASTER", "local[2]"))
            .appName("dajiuzhu")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config(
                "spark.sql.shuffle.partitions", os.environ.get("DAJIUZHU_SPARK_PARTITIONS", "4")
            )
            .config("spark.default.parallelism", "2")
            .config("spark.driver.memory", os.environ.get("DAJIUZHU_SPARK_MEMORY", "2g"))
            .config("spark.local.dir", str(scratch))
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.driver.extraJavaOptions", "-Dlog4j2.level=ERROR")
        )
        _session = builder.getOrCreate()
        _session.sparkContext.setLogLevel("ERROR")
        return _session


def ibis_backend(spark_session):
    global _backend
    with _lock:
        if _backend is None or _backend._session is not spark_session:
            import ibis

            from dajiuzhu.analytics import lazy_ibis

            lazy_ibis.only_needed_compilers()

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                _backend = ibis.pyspark.connect(spark_session)
        return _backend


def stop() -> None:
    """Stop the session (tests and benchmarks call this at the end)."""
    global _session, _backend
    with _lock:
        if _session is not None:
            _session.stop()
        _session = None
        _backend = None
