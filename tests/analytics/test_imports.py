"""A lake loads what a query needs and nothing more: DuckDB's compiler only (not Ibis's twenty
SQL dialects), neither pandas nor ``pyarrow.compute`` — the bulk of a command's fixed cost."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

CODE = """
import json, sys, django
django.setup()
from dajiuzhu.analytics.engine import DuckDBLake
with DuckDBLake() as lake:
    keys = lake.keys_table([3, 1, 2, 3])
    rows = lake.to_rows(keys.filter(keys.person_key > 1).order_by("person_key"))
    count = lake.scalar(keys.count())
loaded = sorted(
    m for m in sys.modules
    if m == "pandas" or m == "pyarrow.compute" or m.startswith("sqlglot.dialects.snowflake")
    or (m.startswith("ibis.backends.sql.compilers.")
        and m.rsplit(".", 1)[1] not in ("base", "duckdb", "_compat"))
)
# any other compiler is still there when asked for (the package's own __init__ then runs)
import ibis.backends.sql.compilers as sc
other = sc.SnowflakeCompiler.__name__
print(json.dumps({"rows": rows, "count": count, "loaded": loaded, "other": other}))
"""


@pytest.mark.slow
def test_a_duckdb_query_loads_only_the_duckdb_compiler_and_no_pandas(tmp_path):
    env = {
        **os.environ,
        "DAJIUZHU_HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "dajiuzhu.settings",
    }
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", CODE], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {
        "rows": [{"person_key": 2}, {"person_key": 3}],
        "count": 3,
        "loaded": [],
        "other": "SnowflakeCompiler",
    }
