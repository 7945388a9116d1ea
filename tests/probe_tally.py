"""Counts of the security probes (tests/core/test_scoping.py, tests/test_api_fuzz.py).

Each probe request is counted under its category with the problems found in its answer (a
leak, a change out of scope, a wrong status, a 5xx, a schema violation). With
``DAJIUZHU_PROBE_REPORT=<path>`` the counts are written there as JSON when the session ends
(one file per xdist worker: ``<path>.<worker>``); ``tools/security_probes.py`` runs the probes
and prints the table of ``docs/security.md``.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

COUNTS: Counter[str] = Counter()


def count(category: str, problems: list[str] | None = None) -> None:
    COUNTS[f"{category}|requests"] += 1
    if problems:
        COUNTS[f"{category}|problems"] += 1


def dump() -> Path | None:
    target = os.environ.get("DAJIUZHU_PROBE_REPORT")
    if not target or not COUNTS:
        return None
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    path = Path(f"{target}.{worker}")
    path.write_text(json.dumps(dict(COUNTS), ensure_ascii=False, indent=1), encoding="utf-8")
    return path
