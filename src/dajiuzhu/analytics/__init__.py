"""Analytics over the lake: engine selection (DuckDB | Spark) and shared Ibis helpers.

``open_lake()`` gives a :class:`~dajiuzhu.analytics.engine.Lake` whose ``table(dataset)`` is the
dataset's *current view* as an Ibis table. The same Ibis expressions run on DuckDB (the
embedded default) and on PySpark (``DAJIUZHU_ENGINE=spark`` or ``engine="spark"``).

The names below are loaded on first use (PEP 562): importing a light module of this package
(``summary_specs``, say) does not load Ibis and DuckDB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dajiuzhu.analytics.engine import ENGINES, EngineError, Lake, engine_name, open_lake

__all__ = ["ENGINES", "EngineError", "Lake", "engine_name", "open_lake"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from dajiuzhu.analytics import engine

        return getattr(engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
