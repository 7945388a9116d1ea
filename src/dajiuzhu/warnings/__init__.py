"""Early warning (R3): the six warning rules as Ibis expressions over the lake (DuckDB or
Spark), scans, dispatch to towns, investigations by grid workers, statistics."""
