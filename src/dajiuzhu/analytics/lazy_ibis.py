"""Load only the Ibis SQL compilers the engines use.

Ibis 12's package ``ibis.backends.sql.compilers`` imports, in its ``__init__``, the compilers of
all twenty SQL dialects it supports — and through them sqlglot's dialects of Snowflake, Trino,
BigQuery, ClickHouse … — about a third of a second of every command that opens a lake, for the
one or two compilers the platform uses (DuckDB; PySpark on the Spark engine).

:func:`only_needed_compilers` puts that package into ``sys.modules`` *without* running its
``__init__``: its submodules import as usual (``ibis.backends.sql.compilers.duckdb``), and a
compiler class asked for by name (``compilers.DuckDBCompiler``) is imported from its own module
on first use. Any other name falls back to the package's real ``__init__`` (every compiler), so
nothing Ibis does can break; at worst it becomes as slow as before. ``tests/analytics`` checks
that a scan loads no other dialect.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from types import ModuleType
from typing import Any

PACKAGE = "ibis.backends.sql.compilers"
_lock = threading.Lock()


def only_needed_compilers() -> None:
    """Install the lazy compilers package (once per process; a no-op when Ibis has imported
    the real one already)."""
    with _lock:
        if PACKAGE in sys.modules:
            return
        spec = importlib.util.find_spec(PACKAGE)
        if spec is None or spec.loader is None:  # pragma: no cover - Ibis is a dependency
            return
        package = importlib.util.module_from_spec(spec)
        complete = threading.Lock()

        def __getattr__(name: str) -> Any:  # a module's attribute hook (PEP 562)
            if name.startswith("__"):
                raise AttributeError(name)
            own = _submodule(name)
            if own is not None:
                return own
            if name.endswith("Compiler"):
                module = _submodule(name.removesuffix("Compiler").lower())
                if module is not None and hasattr(module, name):
                    return getattr(module, name)
            with complete:  # anything else: the package as Ibis wrote it, once
                if "__all__" not in package.__dict__ and spec.loader is not None:
                    spec.loader.exec_module(package)
            try:
                return package.__dict__[name]
            except KeyError:
                raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}") from None

        package.__getattr__ = __getattr__  # type: ignore[method-assign]
        sys.modules[PACKAGE] = package
        parent = importlib.import_module(PACKAGE.rpartition(".")[0])
        parent.compilers = package  # type: ignore[attr-defined]


def _submodule(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"{PACKAGE}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{PACKAGE}.{name}":
            raise
        return None
