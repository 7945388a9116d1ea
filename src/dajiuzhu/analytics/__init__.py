"""Analytics over the lake: engine selection (DuckDB | Spark) and shared Ibis helpers.

``open_lake()`` gives a :class:`~dajiuzhu.analytics.engine.Lake` whose ``table(dataset)`` is the
dataset's *current view* as an Ibis table. The same Ibis expressions run on DuckDB (the
embedded default) and on PySpark (``DAJIUZHU_ENGINE=spark`` or ``engine="spark"``).
"""

from dajiuzhu.analytics.engine import ENGINES, EngineError, Lake, engine_name, open_lake

__all__ = ["ENGINES", "EngineError", "Lake", "engine_name", "open_lake"]
